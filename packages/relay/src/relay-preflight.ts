import { dirname } from 'node:path';
import {
  StartupProblems,
  loadConfigFile,
  parsePublicKeyLine,
  relayConfigSchema,
  relayPaths,
  type RelayConfig,
  type RelayPaths,
  type SshKeyPair,
} from '@lifeline/shared';
import { inventoryStoreProblems } from './inventory/store-preflight.js';
import { parsePasswordHash } from './ssh/password-hash.js';

/** The host key's comment; also what `fingerprint --generate` writes. */
export const RELAY_KEY_COMMENT = 'lifeline-relay';

/** What a start (or `check`) found: the config, its paths, the host key if it exists yet. */
export interface RelayPlan {
  config: RelayConfig;
  paths: RelayPaths;
  /** Undefined when the host key file does not exist yet (a start generates it). */
  hostKey: SshKeyPair | undefined;
}

/**
 * Everything a relay start checks before it changes anything, shared by `run` and `check`: the
 * config file (schema), the host key file (mode, regular file, parses), every password hash and
 * public key line, and every folder it will create or write. Creates nothing. Throws CONFIG_*
 * for an unreadable or invalid file; otherwise one ConfigError listing every problem found.
 */
export async function preflightRelay(configFile: string): Promise<RelayPlan> {
  const config = await loadConfigFile(configFile, relayConfigSchema);
  const paths = relayPaths(config, configFile);
  const problems = new StartupProblems(configFile);
  await problems.writableFolder('stateDir', paths.stateDir);
  const hostKey = await problems.keyFile('hostKeyFile', paths.hostKeyFile, RELAY_KEY_COMMENT);
  await problems.writableFolder('recordingsDir', paths.recordingsDir);
  if (config.devices.length > 0) await problems.writableFolder('consoleLog.dir', paths.consoleLogDir);
  await problems.writableFolder('adminSocket', dirname(paths.adminSocket));
  await inventoryStoreProblems(problems, config, configFile);
  config.users.forEach((user, i) => {
    if (user.password !== undefined) {
      try {
        parsePasswordHash(user.password);
      } catch (err) {
        problems.add(`users[${i}].password`, (err as Error).message);
      }
    }
    user.authorizedKeys.forEach((line, j) => publicKey(problems, `users[${i}].authorizedKeys[${j}]`, line));
  });
  config.devices.forEach((device, i) => publicKey(problems, `devices[${i}].agentKey`, device.agentKey));
  problems.throwIfAny();
  return { config, paths, hostKey };
}

function publicKey(problems: StartupProblems, key: string, line: string): void {
  try {
    parsePublicKeyLine(line);
  } catch (err) {
    problems.add(key, `not a usable public key line (${(err as Error).message})`);
  }
}
