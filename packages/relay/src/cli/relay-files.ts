import { loadConfigFile, relayConfigSchema, relayPaths, type RelayPaths } from '@lifeline/shared';

const defaults = relayPaths(relayConfigSchema.parse({}), undefined);

/** Where a relay installed with the defaults keeps its admin socket: /run/lifeline/relay.sock. */
export const DEFAULT_ADMIN_SOCKET = defaults.adminSocket;
/** Where a relay installed with the defaults keeps its recordings. */
export const DEFAULT_RECORDINGS_DIR = defaults.recordingsDir;

/**
 * The relay's paths for the admin commands: from `--config FILE` (resolved as the daemon does,
 * by relayPaths), or the schema's defaults without one. Throws config errors.
 */
export async function relayFiles(configFile: string | undefined): Promise<RelayPaths> {
  return (await relaySetup(configFile)).paths;
}

/** `relayFiles`, and whether the relay is a member of a relay group (relay.yaml `group`). */
export async function relaySetup(configFile: string | undefined): Promise<{ paths: RelayPaths; inGroup: boolean }> {
  if (configFile === undefined) return { paths: defaults, inGroup: false };
  const config = await loadConfigFile(configFile, 'relay');
  return { paths: relayPaths(config, configFile), inGroup: config.group !== undefined };
}
