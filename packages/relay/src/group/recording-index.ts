import type pg from 'pg';
import { LifelineError, type Logger } from '@lifeline/shared/core';
import type { RecordingEntry } from '../recording/recording-catalog.js';
import { BatchFlusher } from './batch-flusher.js';

/** One recording as the group's index has it. */
export interface IndexedRecording {
  /** Where the file is, on the relay that wrote it. */
  path: string;
  deviceId: string;
  user: string;
  sessionId: string;
  startedAt: Date;
  /** Set once the recording is closed. */
  endedAt?: Date;
  sizeBytes?: number;
}

/**
 * A recording listed from the index, as a relay's own catalog lists one (recording-catalog.ts),
 * plus the member whose disk holds the file (its advertised `host:port`); the size is unknown
 * until the recording closed.
 */
export type GroupRecording = Pick<RecordingEntry, 'path' | 'deviceId' | 'user' | 'sessionPrefix' | 'startedAt' | 'durationSeconds'> & {
  relay: string;
  sizeBytes: number | undefined;
};

export interface GroupRecordingFilter {
  deviceId?: string;
  user?: string;
  since?: Date;
  untilExclusive?: Date;
}

interface IndexRow {
  relay: string;
  path: string;
  device_id: string;
  user_name: string;
  session_id: string;
  started_at: Date;
  ended_at: Date | null;
  /** BIGINT comes back as text. */
  size_bytes: string | null;
}

export interface RecordingIndexOptions {
  pool: pg.Pool;
  /** This relay's advertised `host:port`: a recording is found on the relay with that address (stable across restarts, unlike the member id). */
  relay: string;
  /** What was recorded or removed meanwhile is written this often, in one statement each. */
  flushMs: number;
  logger: Logger;
}

/**
 * The group's recordings index in PostgreSQL (`lifeline_recordings`, schema version 4), so
 * `lifeline-relay recordings` on any member lists every member's recordings and says where each
 * file is. A member adds a row when a recording opens and completes it when it closes; files its
 * retention deletes leave the index with them. Rows are keyed by the member's advertised address
 * and the path, and outlive the member's membership (a relay that restarts has a new member id but
 * the same files). Writes are batched and kept while the database is away.
 */
export class RecordingIndex {
  private readonly pending = new Map<string, IndexedRecording>();
  private readonly removed = new Set<string>();
  private readonly flusher: BatchFlusher;

  constructor(private readonly options: RecordingIndexOptions) {
    this.flusher = new BatchFlusher({
      flushMs: options.flushMs,
      flush: () => this.flush(),
      onError: (err) =>
        options.logger.debug({ event: 'group.recordings-deferred', err: (err as Error).message }, 'recordings index not written yet'),
    });
  }

  /** A recording opened or closed: its row, written at the next flush. */
  record(recording: IndexedRecording): void {
    this.removed.delete(recording.path);
    this.pending.set(recording.path, recording);
    this.flusher.request();
  }

  /** Files deleted (retention): their rows go at the next flush. */
  forget(paths: readonly string[]): void {
    for (const path of paths) {
      this.pending.delete(path);
      this.removed.add(path);
    }
    if (paths.length > 0) this.flusher.request();
  }

  /**
   * The group's recordings matching `filter`, newest first.
   * @throws LifelineError INVENTORY_UNAVAILABLE while the database is away.
   */
  async list(filter: GroupRecordingFilter = {}): Promise<GroupRecording[]> {
    let rows: IndexRow[];
    try {
      rows = (
        await this.options.pool.query<IndexRow>(
          `SELECT relay, path, device_id, user_name, session_id, started_at, ended_at, size_bytes FROM lifeline_recordings
           WHERE ($1::text IS NULL OR device_id = $1) AND ($2::text IS NULL OR user_name = $2)
             AND ($3::timestamptz IS NULL OR started_at >= $3) AND ($4::timestamptz IS NULL OR started_at < $4)
           ORDER BY started_at DESC, relay, path`,
          [filter.deviceId ?? null, filter.user ?? null, filter.since ?? null, filter.untilExclusive ?? null],
        )
      ).rows;
    } catch (err) {
      throw new LifelineError('INVENTORY_UNAVAILABLE', (err as Error).message, { cause: err });
    }
    return rows.map((r) => ({
      relay: r.relay,
      path: r.path,
      deviceId: r.device_id,
      user: r.user_name,
      sessionPrefix: r.session_id.slice(0, 8),
      startedAt: r.started_at,
      durationSeconds: r.ended_at ? (r.ended_at.getTime() - r.started_at.getTime()) / 1000 : undefined,
      sizeBytes: r.size_bytes === null ? undefined : Number(r.size_bytes),
    }));
  }

  stop(): void {
    this.flusher.stop();
  }

  /**
   * The relay stops: what is collected is written now, and its recordings still open are ended
   * at this moment (their sessions end as it stops, after it has left the group). Never throws:
   * with the database away they stay open in the index.
   */
  async finish(): Promise<void> {
    this.flusher.stop();
    try {
      await this.flush();
      await this.options.pool.query('UPDATE lifeline_recordings SET ended_at = now() WHERE relay = $1 AND ended_at IS NULL', [
        this.options.relay,
      ]);
    } catch (err) {
      this.options.logger.warn(
        { event: 'group.recordings-unfinished', err: (err as Error).message },
        'recordings index not completed at stop',
      );
    }
  }

  private async flush(): Promise<void> {
    const rows = [...this.pending.values()];
    const gone = [...this.removed];
    this.pending.clear();
    this.removed.clear();
    const { pool, relay } = this.options;
    try {
      if (rows.length > 0) {
        await pool.query(
          `INSERT INTO lifeline_recordings (relay, path, device_id, user_name, session_id, started_at, ended_at, size_bytes)
           SELECT $1, p, d, u, s, to_timestamp(b / 1000.0), to_timestamp(e / 1000.0), z
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::bigint[]) AS t (p, d, u, s, b, e, z)
           ON CONFLICT (relay, path) DO UPDATE SET ended_at = excluded.ended_at, size_bytes = excluded.size_bytes`,
          [
            relay,
            rows.map((r) => r.path),
            rows.map((r) => r.deviceId),
            rows.map((r) => r.user),
            rows.map((r) => r.sessionId),
            rows.map((r) => r.startedAt.getTime()),
            rows.map((r) => r.endedAt?.getTime() ?? null),
            rows.map((r) => r.sizeBytes ?? null),
          ],
        );
      }
      if (gone.length > 0) await pool.query('DELETE FROM lifeline_recordings WHERE relay = $1 AND path = ANY($2::text[])', [relay, gone]);
    } catch (err) {
      // Kept for the next try; a newer record of the same path (made meanwhile) wins.
      for (const r of rows) if (!this.pending.has(r.path) && !this.removed.has(r.path)) this.pending.set(r.path, r);
      for (const path of gone) if (!this.pending.has(path)) this.removed.add(path);
      throw err;
    }
  }
}
