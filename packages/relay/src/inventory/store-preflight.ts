import { dirname } from 'node:path';
import { relayPaths, type RelayConfig, type StartupProblems } from '@lifeline/shared/core';
import { postgresPasswordFile } from './open-inventory-store.js';
import { readPostgresPassword } from './postgres-password.js';

/**
 * What `check` and a start verify about `store` before anything is opened: the SQLite file's
 * folder can be written, or the PostgreSQL password file exists, is 0600 and is not empty. The
 * server itself is not contacted here (a start says INVENTORY_UNAVAILABLE when it is down).
 */
export async function inventoryStoreProblems(problems: StartupProblems, config: RelayConfig, configFile: string): Promise<void> {
  const { inventoryFile } = relayPaths(config, configFile);
  if (inventoryFile !== undefined) return problems.writableFolder('store.file', dirname(inventoryFile));
  const passwordFile = postgresPasswordFile(config, configFile);
  if (passwordFile === undefined) return;
  try {
    await readPostgresPassword(passwordFile, {});
  } catch (err) {
    problems.add('store.passwordFile', (err as Error).message);
  }
}
