import { MemberRows, type MemberRowsOptions, type MemberRowsTable } from './member-rows.js';

/** What a relay says of one device's live console (its admin `sessions` answer; session-snapshot.ts). */
export interface DeviceSessionRow {
  deviceId: string;
}

const SESSIONS: MemberRowsTable<string> = {
  remove: (db, relayId, ids) =>
    ids === 'all'
      ? db.query('DELETE FROM lifeline_sessions WHERE relay_id = $1', [relayId])
      : db.query('DELETE FROM lifeline_sessions WHERE relay_id = $1 AND device_id = ANY($2::text[])', [relayId, ids]),
  upsert: (db, relayId, rows) =>
    db.query(
      `INSERT INTO lifeline_sessions (relay_id, device_id, snapshot)
       SELECT $1, d, s FROM unnest($2::text[], $3::jsonb[]) AS t (d, s)
       ON CONFLICT (relay_id, device_id) DO UPDATE SET snapshot = excluded.snapshot`,
      [relayId, rows.map(([id]) => id), rows.map(([, json]) => json)],
    ),
};

export interface SessionPresenceOptions extends Omit<MemberRowsOptions<string>, 'table' | 'what'> {
  /** This relay's live sessions now, one per device with people attached. */
  snapshots: () => DeviceSessionRow[];
}

/**
 * This relay's live console sessions in PostgreSQL (`lifeline_sessions`, the group's session
 * tracker), for `lifeline-relay sessions` on any member. Every `flushMs` it compares the relay's
 * snapshots with what it last wrote and writes the devices whose session began, changed (someone
 * joined or left, the writer changed, bytes moved) or ended (member-rows.ts batches them).
 */
export class SessionPresence {
  private readonly rows: MemberRows<string>;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: SessionPresenceOptions) {
    this.rows = new MemberRows({ ...options, table: SESSIONS, what: 'session tracker' });
    this.timer = setInterval(() => this.poll(), options.flushMs);
    this.timer.unref();
  }

  /** Compares the relay's sessions with what was last handed to the table. */
  poll(): void {
    const now = new Map(this.options.snapshots().map((s) => [s.deviceId, JSON.stringify(s)]));
    for (const [deviceId, json] of now) if (this.rows.get(deviceId) !== json) this.rows.set(deviceId, json);
    for (const deviceId of this.rows.ids()) if (!now.has(deviceId)) this.rows.delete(deviceId);
  }

  /** Rewrite every row of this relay at the next flush. */
  resync(): void {
    this.rows.resync();
  }

  stop(): void {
    clearInterval(this.timer);
    this.rows.stop();
  }
}
