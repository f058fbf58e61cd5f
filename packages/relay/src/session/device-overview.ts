import type { ConsoleStatus } from '@lifeline/shared/core';
import type { AgentState } from '../inventory/inventory-store.js';
import type { DeviceStatus } from '../tunnel/agent-registry.js';

/**
 * One word for "can a person use this console now", most serious first: `revoked` (its enrolled
 * agent was revoked), `pending-approval` (its enrolled agent waits for `lifeline-relay approve`),
 * `offline` (no agent tunnel), `console-down` (the agent is there but its console is not: USB adapter unplugged,
 * BMC not answering), `check-failed` (the last loopback health check failed), `ok`, or `unknown`
 * (online, but the agent has not said anything about its console yet).
 */
export type DeviceHealth = 'ok' | 'revoked' | 'pending-approval' | 'offline' | 'console-down' | 'check-failed' | 'unknown';

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
   * The state of the device's enrolled agent (zero-touch enrolment) when one serves it; absent for
   * devices whose agent key is in relay.yaml, and before any agent enrolled.
   */
  enrolment?: AgentState;
  /**
   * In a relay group: the members (`host:port`, as agents dial them) that hold a tunnel of this
   * device, read from PostgreSQL; null when the database could not be read; absent on a relay alone.
   */
  relays?: string[] | null;
}

/** `enrolment`: the state of the device's enrolled agent (InventoryDevice.enrolment), if any. */
export function deviceOverview(status: DeviceStatus, console: ConsoleStatus | undefined, enrolment?: AgentState): DeviceOverview {
  return { ...status, ...health(status, console, enrolment), console, ...(enrolment ? { enrolment } : {}) };
}

function health(
  status: DeviceStatus,
  console: ConsoleStatus | undefined,
  enrolment: AgentState | undefined,
): Pick<DeviceOverview, 'health' | 'healthDetail'> {
  // Revoking closes the tunnel, and a pending agent has no tunnel: neither can be online.
  if (!status.online && enrolment === 'revoked') return { health: 'revoked' };
  if (!status.online && enrolment === 'pending') return { health: 'pending-approval' };
  if (!status.online) return { health: 'offline' };
  if (console?.state === 'down') return { health: 'console-down', healthDetail: console.message ?? 'the agent reports its console down' };
  if (status.lastCheck && !status.lastCheck.ok)
    return { health: 'check-failed', healthDetail: status.lastCheck.error ?? 'no reason given' };
  if (!console) return { health: 'unknown' };
  return { health: 'ok' };
}
