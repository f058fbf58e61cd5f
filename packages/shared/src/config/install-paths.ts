import { dirname, isAbsolute, resolve } from 'node:path';
import type { AgentConfig, ConsoleConfig } from './agent-config.js';
import { agentConsoles } from './agent-consoles.js';
import type { RelayConfig } from './relay-config.js';

/**
 * The install layout (docs/operations.md): config in /etc/lifeline, which the daemon only reads;
 * what it writes in its state folder. `stateDir`, when relative, is relative to the config file's
 * folder (or the current folder when there is no config file); the paths a daemon writes, when
 * relative, are inside `stateDir`; files it only reads stay relative to the config file's folder.
 */
function base(stateDir: string, configFile: string | undefined): string {
  return configFile === undefined ? resolve(stateDir) : resolve(dirname(configFile), stateDir);
}

function inside(dir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dir, path);
}

/** Where the relay keeps what it writes, all absolute. */
export interface RelayPaths {
  stateDir: string;
  hostKeyFile: string;
  recordingsDir: string;
  consoleLogDir: string;
  adminSocket: string;
  /** The SQLite inventory (`store.file`); undefined when the store is PostgreSQL. */
  inventoryFile: string | undefined;
}

/**
 * The one place the relay's paths are resolved: the daemon, `check`, `fingerprint` and the admin
 * commands (`sessions`, `devices`, `power`, `recordings`) all use it. Without a config file the
 * schema's defaults apply (/var/lib/lifeline, /run/lifeline/relay.sock).
 */
export function relayPaths(
  config: Pick<RelayConfig, 'stateDir' | 'hostKeyFile' | 'recordingsDir' | 'consoleLog' | 'adminSocket' | 'store'>,
  configFile: string | undefined,
): RelayPaths {
  const stateDir = base(config.stateDir, configFile);
  return {
    stateDir,
    hostKeyFile: inside(stateDir, config.hostKeyFile),
    recordingsDir: inside(stateDir, config.recordingsDir),
    consoleLogDir: inside(stateDir, config.consoleLog.dir),
    adminSocket: inside(stateDir, config.adminSocket),
    inventoryFile: config.store.type === 'sqlite' ? inside(stateDir, config.store.file) : undefined,
  };
}

/** Where the agent keeps its key, and its consoles with their paths made absolute. */
export interface AgentPaths {
  stateDir: string;
  keyFile: string;
  /** The remembered relay group member list (`groupFile`). */
  groupFile: string;
  /** The remembered writer fences (`writerTokensFile`). */
  writerTokensFile: string;
  consoles: Array<{ deviceId: string; console: ConsoleConfig }>;
}

/**
 * The one place the agent's paths are resolved (daemon, `check`, `pubkey`): the key inside
 * `stateDir`; a serial device path and a BMC passwordFile, which the agent only reads,
 * relative to the config file's folder.
 */
export function agentPaths(config: AgentConfig, configFile: string): AgentPaths {
  const stateDir = base(config.stateDir, configFile);
  const fromConfig = (path: string) => inside(dirname(resolve(configFile)), path);
  return {
    stateDir,
    keyFile: inside(stateDir, config.keyFile),
    groupFile: inside(stateDir, config.groupFile),
    writerTokensFile: inside(stateDir, config.writerTokensFile),
    consoles: agentConsoles(config).map(({ deviceId, console }) => {
      if (console.type === 'serial') return { deviceId, console: { ...console, path: fromConfig(console.path) } };
      if (console.type === 'ipmi-sol' && console.passwordFile !== undefined)
        return { deviceId, console: { ...console, passwordFile: fromConfig(console.passwordFile) } };
      return { deviceId, console };
    }),
  };
}
