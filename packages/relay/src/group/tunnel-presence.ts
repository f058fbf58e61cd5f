import type { TunnelListener } from '../tunnel/agent-registry.js';
import type { AgentTunnel } from '../tunnel/agent-tunnel.js';
import { MemberRows, type MemberRowsOptions, type MemberRowsTable } from './member-rows.js';

interface Presence {
  peer: string;
  since: number;
}

const TUNNELS: MemberRowsTable<Presence> = {
  remove: (db, relayId, ids) =>
    ids === 'all'
      ? db.query('DELETE FROM lifeline_tunnels WHERE relay_id = $1', [relayId])
      : db.query('DELETE FROM lifeline_tunnels WHERE relay_id = $1 AND device_id = ANY($2::text[])', [relayId, ids]),
  upsert: (db, relayId, rows) =>
    db.query(
      `INSERT INTO lifeline_tunnels (relay_id, device_id, peer, since)
       SELECT $1, d, p, to_timestamp(s / 1000.0) FROM unnest($2::text[], $3::text[], $4::float8[]) AS t (d, p, s)
       ON CONFLICT (relay_id, device_id) DO UPDATE SET peer = excluded.peer, since = excluded.since`,
      [relayId, rows.map(([id]) => id), rows.map(([, r]) => r.peer), rows.map(([, r]) => r.since)],
    ),
};

/**
 * Which devices' tunnels this relay holds, in PostgreSQL (`lifeline_tunnels`), for `devices` on
 * any member: the agent registry's connects and disconnects, batched (member-rows.ts).
 */
export class TunnelPresence implements TunnelListener {
  private readonly rows: MemberRows<Presence>;

  constructor(options: Omit<MemberRowsOptions<Presence>, 'table' | 'what'>) {
    this.rows = new MemberRows({ ...options, table: TUNNELS, what: 'tunnel presence' });
  }

  online(tunnel: AgentTunnel): void {
    this.rows.set(tunnel.deviceId, { peer: tunnel.peer, since: tunnel.since });
  }

  offline(deviceId: string): void {
    this.rows.delete(deviceId);
  }

  /** Rewrite every row of this relay at the next flush. */
  resync(): void {
    this.rows.resync();
  }

  stop(): void {
    this.rows.stop();
  }
}
