import { LifelineError, isLifelineError, type Logger, type RelayConfig } from '@lifeline/shared/core';
import type { InventoryStore } from '../inventory/inventory-store.js';
import { PostgresInventoryStore } from '../inventory/postgres-inventory-store.js';
import type { AgentRegistry } from '../tunnel/agent-registry.js';
import { RelayGroup } from './relay-group.js';
import type { DeviceSessionRow } from './session-presence.js';

export interface JoinRelayGroupOptions {
  config: RelayConfig;
  configFile: string;
  /** The opened inventory store: a group needs it to be PostgreSQL (the schema says so too). */
  store: InventoryStore | undefined;
  /** The port the relay is bound to: `group.advertise.port` when that is left out. */
  port: number;
  hostKeyFingerprint: string;
  agents: AgentRegistry;
  /** This relay's live sessions (its admin `sessions` answer), for the group's session tracker. */
  sessions: () => DeviceSessionRow[];
  /** This member has begun writing these devices' console logs. */
  onConsoleLogsTaken?: (deviceIds: string[]) => void;
  /** The group's writer leases may have changed (relay-group.ts). */
  onWritersChanged?: (deviceId?: string) => void;
  logger: Logger;
}

/**
 * Joins the relay group relay.yaml's `group` describes (undefined without one) and has the tunnel
 * presence follow the agent registry, tunnels registered before the join included. Errors name
 * the file and key in one line: `relay.yaml: group: this relay's host key ... differs ...`
 * (GROUP_HOSTKEY_MISMATCH, exit 78), `relay.yaml: group: PostgreSQL ...` (INVENTORY_UNAVAILABLE).
 */
export async function joinRelayGroup(options: JoinRelayGroupOptions): Promise<RelayGroup | undefined> {
  const { config, configFile, store } = options;
  if (!config.group) return undefined;
  if (!(store instanceof PostgresInventoryStore))
    throw new LifelineError('CONFIG_INVALID', `${configFile}: group: a relay group needs store.type postgres`);
  let group: RelayGroup;
  try {
    group = await RelayGroup.join({
      connection: store.connection,
      where: store.where,
      advertise: { host: config.group.advertise.host, port: config.group.advertise.port ?? options.port },
      hostKey: options.hostKeyFingerprint,
      heartbeatMs: config.group.heartbeatMs,
      expiryMs: config.group.expiryMs,
      presenceFlushMs: config.group.presenceFlushMs,
      sessions: options.sessions,
      ...(options.onConsoleLogsTaken ? { onConsoleLogsTaken: options.onConsoleLogsTaken } : {}),
      ...(options.onWritersChanged ? { onWritersChanged: options.onWritersChanged } : {}),
      logger: options.logger,
    });
  } catch (err) {
    if (!isLifelineError(err)) throw err;
    throw new LifelineError(err.code, `${configFile}: group: ${err.message}`, { cause: err });
  }
  for (const listener of [group.presence, group.consoleLogs]) {
    options.agents.subscribe(listener);
    for (const tunnel of options.agents.all()) listener.online(tunnel);
  }
  return group;
}
