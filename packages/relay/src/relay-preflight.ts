import { dirname } from 'node:path';
import {
  ConfigError,
  StartupProblems,
  loadConfigFile,
  relayPaths,
  type RelayConfig,
  type RelayPaths,
  type SshKeyPair,
} from '@lifeline/shared/core';
import { EMPTY_LEARNED, Inventory } from './inventory/inventory.js';
import { inventoryStoreProblems } from './inventory/store-preflight.js';

/** The host key's comment; also what `fingerprint --generate` writes. */
export const RELAY_KEY_COMMENT = 'lifeline-relay';

/** What a start (or `check`) found: the config, its paths, the host key if it exists yet. */
export interface RelayPlan {
  config: RelayConfig;
  paths: RelayPaths;
  /** Undefined when the host key file does not exist yet (a start generates it). */
  hostKey: SshKeyPair | undefined;
  /** What a start logs as warnings (a user naming a device that does not exist yet). */
  warnings: string[];
  /** The inventory the check built from relay.yaml alone (keys parsed); a start reuses its keys. */
  inventory: Inventory | undefined;
}

/**
 * Everything a relay start checks before it changes anything, shared by `run` and `check`: the
 * config file (schema), the host key file (mode, regular file, parses), every password hash and
 * public key line, and every folder it will create or write. Creates nothing. Throws CONFIG_*
 * for an unreadable or invalid file; otherwise one ConfigError listing every problem found.
 */
export async function preflightRelay(configFile: string): Promise<RelayPlan> {
  const config = await loadConfigFile(configFile, 'relay');
  const paths = relayPaths(config, configFile);
  const problems = new StartupProblems(configFile);
  await problems.writableFolder('stateDir', paths.stateDir);
  const hostKey = await problems.keyFile('hostKeyFile', paths.hostKeyFile, RELAY_KEY_COMMENT);
  await problems.writableFolder('recordingsDir', paths.recordingsDir);
  if (config.devices.length > 0) await problems.writableFolder('consoleLog.dir', paths.consoleLogDir);
  await problems.writableFolder('adminSocket', dirname(paths.adminSocket));
  await inventoryStoreProblems(problems, config, configFile);
  // Password hashes and key lines: parsed as the running relay's inventory parses them.
  let warnings: string[] = [];
  let inventory: Inventory | undefined;
  try {
    inventory = new Inventory({ config, file: configFile, learned: EMPTY_LEARNED });
    warnings = inventory.warnings;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) problems.add(p.key, p.message);
  }
  problems.throwIfAny();
  return { config, paths, hostKey, warnings, inventory };
}
