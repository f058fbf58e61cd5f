import type pg from 'pg';
import { LifelineError, type Logger } from '@lifeline/shared/core';
import { inTransaction } from '../inventory/postgres-transaction.js';
import { BatchFlusher } from './batch-flusher.js';

/** How one group table keyed by (relay_id, id) is written. */
export interface MemberRowsTable<V> {
  /** Deletes this relay's rows: all of them, or those with these ids. */
  remove(db: pg.PoolClient, relayId: string, ids: string[] | 'all'): Promise<unknown>;
  /** Inserts these rows of this relay, or updates them where they exist. */
  upsert(db: pg.PoolClient, relayId: string, rows: Array<[id: string, value: V]>): Promise<unknown>;
}

export interface MemberRowsOptions<V> {
  pool: pg.Pool;
  relayId: string;
  /** Changes are collected and written in one transaction this often. */
  flushMs: number;
  table: MemberRowsTable<V>;
  /** What the rows are, for the log (`tunnel presence`). */
  what: string;
  logger: Logger;
  /** This relay's member row is gone (it expired): the group joins again, then calls `resync`. */
  onMissingMember(): void;
}

/**
 * What this relay holds of one kind (its tunnels, its live sessions), mirrored into a group
 * table in PostgreSQL for the other members to read. Changes are batched: every `flushMs` one
 * transaction deletes the ids that went and upserts the ones that came or changed, with array
 * parameters (10,000 agents reconnecting after a restart are a handful of statements, not
 * 10,000). While the database is away the changes wait; `resync` (after a rejoin or an outage)
 * rewrites all of this relay's rows. Rows of a member that expires go with it (the tables
 * reference lifeline_relays ON DELETE CASCADE).
 */
export class MemberRows<V> {
  /** What this relay holds now: the truth the table follows. */
  private readonly held = new Map<string, V>();
  private readonly dirty = new Set<string>();
  private full = true;
  private readonly flusher: BatchFlusher;

  constructor(private readonly options: MemberRowsOptions<V>) {
    this.flusher = new BatchFlusher({ flushMs: options.flushMs, flush: () => this.flush(), onError: (err) => this.failed(err) });
  }

  set(id: string, value: V): void {
    this.held.set(id, value);
    this.mark(id);
  }

  delete(id: string): void {
    if (!this.held.delete(id)) return;
    this.mark(id);
  }

  get(id: string): V | undefined {
    return this.held.get(id);
  }

  /** The ids held now (a copy: safe to change the rows while going through it). */
  ids(): string[] {
    return [...this.held.keys()];
  }

  /** Rewrite every row of this relay at the next flush. */
  resync(): void {
    this.full = true;
    this.flusher.request();
  }

  stop(): void {
    this.flusher.stop();
  }

  private mark(id: string): void {
    this.dirty.add(id);
    this.flusher.request();
  }

  private async flush(): Promise<void> {
    const full = this.full;
    const changed = [...this.dirty];
    this.full = false;
    this.dirty.clear();
    const up = full ? [...this.held.keys()] : changed.filter((id) => this.held.has(id));
    const down = full ? [] : changed.filter((id) => !this.held.has(id));
    const { pool, relayId, table } = this.options;
    try {
      await inTransaction(
        pool,
        async (db) => {
          if (full) await table.remove(db, relayId, 'all');
          else if (down.length > 0) await table.remove(db, relayId, down);
          if (up.length > 0)
            await table.upsert(
              db,
              relayId,
              up.map((id) => [id, this.held.get(id)!]),
            );
        },
        (err) => new LifelineError('INVENTORY_UNAVAILABLE', (err as Error).message, { cause: err }),
      );
    } catch (err) {
      // Nothing was written: all of it again next time (or everything, after a rejoin).
      if (full) this.full = true;
      for (const id of changed) this.dirty.add(id);
      throw err;
    }
  }

  private failed(err: unknown): void {
    // 23503: this relay's member row is gone (it expired); the group joins again, then resyncs.
    if (((err as Error).cause as { code?: string } | undefined)?.code === '23503') this.options.onMissingMember();
    else
      this.options.logger.debug(
        { event: 'group.presence-deferred', what: this.options.what, err: (err as Error).message },
        `${this.options.what} not written yet`,
      );
  }
}
