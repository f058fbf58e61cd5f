import type pg from 'pg';
import { LifelineError, type Logger } from '@lifeline/shared/core';
import { inTransaction } from '../inventory/postgres-transaction.js';
import type { TunnelListener } from '../tunnel/agent-registry.js';
import type { AgentTunnel } from '../tunnel/agent-tunnel.js';
import { BatchFlusher } from './batch-flusher.js';

/** The NOTIFY channel of released console logs; the payload is the member that released some. */
export const CONSOLE_LOGS_CHANNEL = 'lifeline_console_logs';

export interface ConsoleLogHoldersOptions {
  pool: pg.Pool;
  relayId: string;
  flushMs: number;
  logger: Logger;
  /** This member has begun writing these devices' logs (first connect, or taken over from a member that let go or died). */
  onTaken?: (deviceIds: string[]) => void;
}

/**
 * Which member writes each device's continuous console log, so a group writes it once, not once
 * per member (`lifeline_console_logs`, schema version 5: one row per device, naming its writer).
 * A member wants the logs of the devices whose tunnels it holds (it follows the agent registry);
 * it takes a device's log when nobody has it and keeps it while it holds the tunnel. A member that
 * loses the tunnel releases the log and tells the others (NOTIFY), one of which takes it; a member
 * that dies takes its rows with it (ON DELETE CASCADE), and the others take them when its expiry
 * changes the member list (`reclaim`). Members that do not write a device's log still keep its
 * scrollback for the people who join there.
 */
export class ConsoleLogHolders implements TunnelListener {
  private readonly wanted = new Set<string>();
  private held = new Set<string>();
  private readonly flusher: BatchFlusher;

  constructor(private readonly options: ConsoleLogHoldersOptions) {
    this.flusher = new BatchFlusher({
      flushMs: options.flushMs,
      flush: () => this.flush(),
      onError: (err) =>
        options.logger.debug({ event: 'group.console-logs-deferred', err: (err as Error).message }, 'console log holders not written yet'),
    });
  }

  /** Whether this member writes the device's console log now. */
  holds(deviceId: string): boolean {
    return this.held.has(deviceId);
  }

  online(tunnel: AgentTunnel): void {
    this.wanted.add(tunnel.deviceId);
    this.flusher.request();
  }

  offline(deviceId: string): void {
    this.wanted.delete(deviceId);
    this.flusher.request();
  }

  /** Logs may have been released (another member let go, or expired): take what is free and wanted. */
  reclaim(): void {
    this.flusher.request();
  }

  stop(): void {
    this.flusher.stop();
  }

  /** Releases what is no longer wanted, takes what is wanted and free, and reads what this member holds. */
  private async flush(): Promise<void> {
    const wanted = [...this.wanted];
    const { pool, relayId } = this.options;
    const before = this.held;
    this.held = await inTransaction(
      pool,
      async (db) => {
        const released = await db.query('DELETE FROM lifeline_console_logs WHERE relay_id = $1 AND NOT (device_id = ANY($2::text[]))', [
          relayId,
          wanted,
        ]);
        await db.query(
          `INSERT INTO lifeline_console_logs (device_id, relay_id) SELECT d, $1 FROM unnest($2::text[]) AS t (d)
           ON CONFLICT (device_id) DO NOTHING`,
          [relayId, wanted],
        );
        if ((released.rowCount ?? 0) > 0) await db.query('SELECT pg_notify($1, $2)', [CONSOLE_LOGS_CHANNEL, relayId]);
        const { rows } = await db.query<{ device_id: string }>('SELECT device_id FROM lifeline_console_logs WHERE relay_id = $1', [
          relayId,
        ]);
        return new Set(rows.map((r) => r.device_id));
      },
      (err) => new LifelineError('INVENTORY_UNAVAILABLE', (err as Error).message, { cause: err }),
    );
    const taken = [...this.held].filter((id) => !before.has(id));
    if (taken.length > 0) this.options.onTaken?.(taken);
  }
}
