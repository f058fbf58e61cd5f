import { dirname, resolve } from 'node:path';
import { LifelineError, isLifelineError, makeFolder, relayPaths, type Logger, type RelayConfig } from '@lifeline/shared/core';
import type { InventoryStore } from './inventory-store.js';
import { readPostgresPassword } from './postgres-password.js';
import { SqliteInventoryStore } from './sqlite-inventory-store.js';

/** `store.passwordFile` as the relay reads it: relative to relay.yaml's folder. */
export function postgresPasswordFile(config: RelayConfig, configFile: string): string | undefined {
  return config.store.type === 'postgres' && config.store.passwordFile !== undefined
    ? resolve(dirname(configFile), config.store.passwordFile)
    : undefined;
}

/**
 * Opens the inventory store relay.yaml's `store` names: SQLite in the state folder (made 0700 if
 * missing) or PostgreSQL (migrated at open). Every error names relay.yaml and the key, in one
 * line: `relay.yaml: store.passwordFile: ...` (CONFIG_INVALID, exit 78), `relay.yaml: store: ...`
 * (INVENTORY_UNAVAILABLE, exit 69; INVENTORY_SCHEMA_TOO_NEW, exit 78).
 */
export async function openInventoryStore(
  config: RelayConfig,
  configFile: string,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<InventoryStore> {
  const named = (key: string) => (err: unknown) => {
    if (!isLifelineError(err)) throw err;
    throw new LifelineError(err.code, `${configFile}: ${key}: ${err.message}`, { cause: err });
  };
  const store = config.store;
  if (store.type === 'sqlite') {
    const file = relayPaths(config, configFile).inventoryFile!;
    try {
      await makeFolder(dirname(file), 0o700);
    } catch (err) {
      named('store.file')(new LifelineError('INVENTORY_UNAVAILABLE', `cannot create ${dirname(file)}: ${(err as Error).message}`));
    }
    try {
      return SqliteInventoryStore.open(file);
    } catch (err) {
      return named('store.file')(err);
    }
  }
  const password = await readPostgresPassword(postgresPasswordFile(config, configFile), env).catch(named('store.passwordFile'));
  // PostgreSQL's client is loaded only for a PostgreSQL store (issue 11: the daemon's memory).
  const { PostgresInventoryStore } = await import('./postgres-inventory-store.js');
  return PostgresInventoryStore.open({
    host: store.host,
    port: store.port,
    database: store.database,
    user: store.user,
    password,
    ssl: store.ssl,
    connectTimeoutMs: store.connectTimeoutMs,
    logger: logger.child({ component: 'inventory' }),
  }).catch(named('store'));
}
