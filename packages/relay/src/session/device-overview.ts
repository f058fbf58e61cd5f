import type { ConsoleStatus } from '@lifeline/shared';
import type { DeviceStatus } from '../tunnel/agent-registry.js';

/**
 * One word for "can a person use this console now", most serious first: `offline` (no agent
 * tunnel), `console-down` (the agent is there but its console is not: USB adapter unplugged,
 * BMC not answering), `check-failed` (the last loopback health check failed), `ok`, or `unknown`
 * (online, but the agent has not said anything about its console yet).
 */
export type DeviceHealth = 'ok' | 'offline' | 'console-down' | 'check-failed' | 'unknown';

/** What `lifeline-relay devices` shows (and `--json` carries) of one device. */
export interface DeviceOverview extends DeviceStatus {
  health: DeviceHealth;
  /** Why, for `console-down` and `check-failed`: the agent's console message or the check's error. */
  healthDetail?: string;
  /**
   * The console as its agent last described it (LIFELINE-STATUS), kept while the device is
   * offline; undefined until its agent first connected. `kind`, `line` and `power` are absent
   * for agents that do not send them (older agents).
   */
  console: ConsoleStatus | undefined;
  /**
   * In a relay group: the members (`host:port`, as agents dial them) that hold a tunnel of this
   * device, read from PostgreSQL; null when the database could not be read; absent on a relay alone.
   */
  relays?: string[] | null;
}

export function deviceOverview(status: DeviceStatus, console: ConsoleStatus | undefined): DeviceOverview {
  return { ...status, ...health(status, console), console };
}

function health(status: DeviceStatus, console: ConsoleStatus | undefined): Pick<DeviceOverview, 'health' | 'healthDetail'> {
  if (!status.online) return { health: 'offline' };
  if (console?.state === 'down') return { health: 'console-down', healthDetail: console.message ?? 'the agent reports its console down' };
  if (status.lastCheck && !status.lastCheck.ok)
    return { health: 'check-failed', healthDetail: status.lastCheck.error ?? 'no reason given' };
  if (!console) return { health: 'unknown' };
  return { health: 'ok' };
}
