import type pg from 'pg';
import { LifelineError, type Logger } from '@lifeline/shared/core';
import { inTransaction } from '../inventory/postgres-transaction.js';
import type { TunnelListener } from '../tunnel/agent-registry.js';
import type { AgentTunnel } from '../tunnel/agent-tunnel.js';

export interface TunnelPresenceOptions {
  pool: pg.Pool;
  relayId: string;
  /** Changes are collected and written in one statement pair this often. */
  flushMs: number;
  logger: Logger;
  /** This relay's member row is gone (it expired): the group joins again, then calls `resync`. */
  onMissingMember(): void;
}

interface Presence {
  peer: string;
  since: number;
}

/**
 * Which devices' tunnels this relay holds, in PostgreSQL (`lifeline_tunnels`), for `devices` on
 * any member. It listens to the agent registry; connects and disconnects are batched: every
 * `flushMs` one transaction deletes the devices that went and upserts the ones that came, with
 * array parameters (10,000 agents reconnecting after a restart are a handful of statements,
 * not 10,000). While the database is away the changes wait; `resync` (after a rejoin or an
 * outage) rewrites this relay's rows from what it holds. Rows of a member that expires go with
 * it (ON DELETE CASCADE).
 */
export class TunnelPresence implements TunnelListener {
  /** What this relay holds now: the truth the table follows. */
  private readonly held = new Map<string, Presence>();
  private readonly dirty = new Set<string>();
  private full = true;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private stopped = false;

  constructor(private readonly options: TunnelPresenceOptions) {}

  online(tunnel: AgentTunnel): void {
    this.held.set(tunnel.deviceId, { peer: tunnel.peer, since: tunnel.since });
    this.mark(tunnel.deviceId);
  }

  offline(deviceId: string): void {
    this.held.delete(deviceId);
    this.mark(deviceId);
  }

  /** Rewrite every row of this relay at the next flush. */
  resync(): void {
    this.full = true;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private mark(deviceId: string): void {
    this.dirty.add(deviceId);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.flushMs);
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.stopped) return this.schedule();
    this.flushing = true;
    const full = this.full;
    const changed = [...this.dirty];
    this.full = false;
    this.dirty.clear();
    const up = full ? [...this.held.keys()] : changed.filter((id) => this.held.has(id));
    const down = full ? [] : changed.filter((id) => !this.held.has(id));
    const { pool, relayId } = this.options;
    try {
      await inTransaction(
        pool,
        async (db) => {
          if (full) await db.query('DELETE FROM lifeline_tunnels WHERE relay_id = $1', [relayId]);
          else if (down.length > 0)
            await db.query('DELETE FROM lifeline_tunnels WHERE relay_id = $1 AND device_id = ANY($2::text[])', [relayId, down]);
          if (up.length === 0) return;
          const rows = up.map((id) => this.held.get(id)!);
          await db.query(
            `INSERT INTO lifeline_tunnels (relay_id, device_id, peer, since)
             SELECT $1, d, p, to_timestamp(s / 1000.0) FROM unnest($2::text[], $3::text[], $4::float8[]) AS t (d, p, s)
             ON CONFLICT (relay_id, device_id) DO UPDATE SET peer = excluded.peer, since = excluded.since`,
            [relayId, up, rows.map((r) => r.peer), rows.map((r) => r.since)],
          );
        },
        (err) => new LifelineError('INVENTORY_UNAVAILABLE', (err as Error).message, { cause: err }),
      );
    } catch (err) {
      // Nothing was written: all of it again next time (or everything, after a rejoin).
      if (full) this.full = true;
      for (const id of changed) this.dirty.add(id);
      // 23503: this relay's member row is gone (it expired); the group joins again, then resyncs.
      if (((err as Error).cause as { code?: string } | undefined)?.code === '23503') this.options.onMissingMember();
      else this.options.logger.debug({ event: 'group.presence-deferred', err: (err as Error).message }, 'tunnel presence not written yet');
      this.flushing = false;
      // Retry on the group's pace: a heartbeat later at the latest (resync or the next change also call).
      this.timer ??= setTimeout(
        () => {
          this.timer = undefined;
          void this.flush();
        },
        Math.max(this.options.flushMs, 1_000),
      );
      return;
    }
    this.flushing = false;
    if (this.dirty.size > 0 || this.full) this.schedule();
  }
}
