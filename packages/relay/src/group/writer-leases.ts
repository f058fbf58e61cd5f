import type pg from 'pg';
import { LifelineError } from '@lifeline/shared/core';

/** The NOTIFY channel of writer lease changes (a trigger sends it); the payload is the device id. */
export const WRITERS_CHANNEL = 'lifeline_writers';

/** Who has read-write on a device for the whole group, as `lifeline_writers` has it. */
export interface WriterLease {
  deviceId: string;
  /** The member's id, and its advertised `host:port`. */
  relayId: string;
  relay: string;
  user: string;
  sessionId: string;
  /** The fencing token: every claim or takeover gets a larger one (a sequence). */
  token: bigint;
}

/** The person a member claims read-write for. */
export interface LeaseHolder {
  user: string;
  sessionId: string;
}

export type ClaimResult = { won: true; token: bigint } | { won: false; holder: WriterLease | undefined };

interface LeaseRow {
  device_id: string;
  relay_id: string;
  host: string;
  port: number;
  user_name: string;
  session_id: string;
  token: string;
}

const SELECT_LEASES = `SELECT w.device_id, w.relay_id, r.host, r.port, w.user_name, w.session_id, w.token
  FROM lifeline_writers w JOIN lifeline_relays r ON r.id = w.relay_id`;

/**
 * The group's writer lease per device in PostgreSQL (`lifeline_writers`, schema version 6): one
 * row per device naming the member and person with read-write and a fencing token. A claim wins
 * only when nobody holds the device (INSERT ... ON CONFLICT DO NOTHING: of two members claiming at
 * once, one wins); a takeover replaces the row with a new token; a release deletes it only if the
 * token is still the caller's. A member's rows go with it when it expires or leaves (ON DELETE
 * CASCADE). A trigger NOTIFYs every change (WRITERS_CHANNEL), the cascade's too.
 *
 * Every method throws LifelineError INVENTORY_UNAVAILABLE when the database cannot be reached, or
 * when this member's own row is gone (it expired and has not joined again yet): a claim then has
 * no member to name.
 */
export class WriterLeases {
  constructor(
    private readonly pool: pg.Pool,
    private readonly relayId: string,
    private readonly unavailable: (err: unknown) => LifelineError,
  ) {}

  /** Claims the device for `holder` when nobody holds it (or this member does already, for another person). */
  async claim(deviceId: string, holder: LeaseHolder): Promise<ClaimResult> {
    const won = await this.query<{ token: string }>(
      `INSERT INTO lifeline_writers (device_id, relay_id, user_name, session_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (device_id) DO UPDATE SET user_name = EXCLUDED.user_name, session_id = EXCLUDED.session_id,
         token = nextval('lifeline_writer_tokens'), since = now()
       WHERE lifeline_writers.relay_id = EXCLUDED.relay_id
       RETURNING token`,
      [deviceId, this.relayId, holder.user, holder.sessionId],
    );
    if (won[0]) return { won: true, token: BigInt(won[0].token) };
    return { won: false, holder: (await this.read([deviceId])).get(deviceId) };
  }

  /** Takes the device for `holder` from whoever holds it (the rules allowed it): a new, larger token. */
  async takeOver(deviceId: string, holder: LeaseHolder): Promise<bigint> {
    const [row] = await this.query<{ token: string }>(
      `INSERT INTO lifeline_writers (device_id, relay_id, user_name, session_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (device_id) DO UPDATE SET relay_id = EXCLUDED.relay_id, user_name = EXCLUDED.user_name,
         session_id = EXCLUDED.session_id, token = nextval('lifeline_writer_tokens'), since = now()
       RETURNING token`,
      [deviceId, this.relayId, holder.user, holder.sessionId],
    );
    return BigInt(row!.token);
  }

  /** Frees the device if `token` still holds it; false when another claim replaced it meanwhile. */
  async release(deviceId: string, token: bigint): Promise<boolean> {
    const gone = await this.query('DELETE FROM lifeline_writers WHERE device_id = $1 AND token = $2 RETURNING token', [
      deviceId,
      token.toString(),
    ]);
    return gone.length > 0;
  }

  /** The leases of these devices (those held by nobody are absent). */
  async read(deviceIds: string[]): Promise<Map<string, WriterLease>> {
    const rows = await this.query<LeaseRow>(`${SELECT_LEASES} WHERE w.device_id = ANY($1::text[])`, [deviceIds]);
    return new Map(
      rows.map((r) => [
        r.device_id,
        {
          deviceId: r.device_id,
          relayId: r.relay_id,
          relay: `${r.host}:${r.port}`,
          user: r.user_name,
          sessionId: r.session_id,
          token: BigInt(r.token),
        },
      ]),
    );
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw this.unavailable(err);
    }
  }
}
