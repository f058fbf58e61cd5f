import type { Logger, RelayDeviceConfig } from '@lifeline/shared/core';
import type { InventoryChange } from './live-inventory.js';

/** What a reload acts on (session/console-sessions.ts, tunnel/agent-registry.ts, the console logs). */
export interface ReloadTargets {
  sessions: {
    endSessionsOf(user: string, line: string): number;
    removeDevice(deviceId: string, line: string): void;
    reconfigure(device: RelayDeviceConfig): void;
  };
  tunnels: { current(deviceId: string): { readonly agentFingerprint: string; drop(reason: string): void } | undefined };
  consoleLogs: { close(deviceId: string, note?: string): Promise<void> };
  logger: Logger;
}

/**
 * Applies one inventory change, touching only what changed: a removed person's sessions end with
 * a line to them; a removed device's sessions, tunnel and log are closed; a device whose agent
 * key changed loses the old key's tunnel (the new key's agent registers a fresh one); a changed
 * device's settings apply to its next BREAK. Roles and access need nothing here: they are asked
 * of the current inventory at each login and action. Devices added get hub and log when first used.
 */
export function applyInventoryChange(change: InventoryChange, targets: ReloadTargets): void {
  const { diff, after } = change;
  for (const user of diff.users.removed) {
    const ended = targets.sessions.endSessionsOf(user, 'your account was removed from this relay; the session ends.');
    if (ended > 0) targets.logger.info({ event: 'config.user-sessions-ended', user, sessions: ended }, 'sessions of a removed user ended');
  }
  for (const id of diff.devices.removed) {
    targets.sessions.removeDevice(id, `${id} was removed from this relay; the session ends.`);
    void targets.consoleLogs.close(id, 'device removed from the inventory');
  }
  for (const id of [...diff.devices.removed, ...diff.devices.changed]) {
    const tunnel = targets.tunnels.current(id);
    if (tunnel && !after.agentServes(tunnel.agentFingerprint, id))
      tunnel.drop(after.device(id) ? 'the agent key of this device changed' : 'the device was removed from the inventory');
  }
  for (const id of diff.devices.changed) {
    const device = after.device(id);
    if (device) targets.sessions.reconfigure(device);
  }
}
