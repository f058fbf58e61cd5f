import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { LifelineError, type GroupMember, type Logger } from '@lifeline/shared/core';
import { ChangeListeners } from '../inventory/change-listeners.js';
import { LISTEN_RECONNECT } from '../inventory/postgres-inventory-store.js';
import { PostgresListener } from '../inventory/postgres-listener.js';
import { postgresPool } from '../inventory/postgres-pool.js';
import { inTransaction } from '../inventory/postgres-transaction.js';
import { CONSOLE_LOGS_CHANNEL, ConsoleLogHolders } from './console-log-holders.js';
import { RecordingIndex } from './recording-index.js';
import { SessionPresence, type DeviceSessionRow } from './session-presence.js';
import { TunnelPresence } from './tunnel-presence.js';
import { WRITERS_CHANNEL, WriterLeases } from './writer-leases.js';

/** The NOTIFY channel of membership changes; the payload is the id of the member that made one. */
const CHANNEL = 'lifeline_group';
/** Taken (per transaction) while joining: two relays with different keys starting at once cannot both get in. */
const JOIN_LOCK = 0x6c6c2d67726f7570n; // "ll-group"

export interface RelayGroupOptions {
  /** The group's PostgreSQL (the inventory store's database, already migrated). */
  connection: pg.ClientConfig;
  /** For messages: the database, never the password. */
  where: string;
  /** How agents dial this relay (`group.advertise`). */
  advertise: { host: string; port: number };
  /** This relay's host key fingerprint; every member must have the same. */
  hostKey: string;
  heartbeatMs: number;
  expiryMs: number;
  presenceFlushMs: number;
  /** This relay's live sessions (its admin `sessions` answer), for the group's session tracker. */
  sessions: () => DeviceSessionRow[];
  /** This member has begun writing these devices' console logs (console-log-holders.ts). */
  onConsoleLogsTaken?: (deviceIds: string[]) => void;
  /**
   * The group's writer leases may have changed: of `deviceId` (a NOTIFY on lifeline_writers names
   * it), or of any device when none is given (a change of members: an expired member's leases went
   * with it; a heartbeat: the fallback for a lost notification).
   */
  onWritersChanged?: (deviceId?: string) => void;
  logger: Logger;
}

/** A live session another member hosts, as that member described it. */
export interface SessionElsewhere {
  /** The member's advertised `host:port`. */
  relay: string;
  snapshot: DeviceSessionRow & Record<string, unknown>;
}

/** A member as the group table has it. */
export interface GroupMemberRecord extends GroupMember {
  hostKey: string;
  startedAt: string;
}

/**
 * This relay's membership of a relay group, kept in PostgreSQL (table `lifeline_relays`, schema
 * version 2): `join` registers it (id, advertised address, host key fingerprint, start time) with
 * an expiry the heartbeat pushes on; a member that stops renewing (SIGKILL, cut off) is deleted
 * by the next heartbeat of any member, with its tunnel presence (ON DELETE CASCADE). Changes are
 * announced with NOTIFY and read back on every heartbeat too, so a lost notification costs at
 * most one heartbeat. While the database is away the last known member list stays; once it is
 * back the relay renews, or joins again if it was expired meanwhile.
 *
 * @throws from `join`: LifelineError GROUP_HOSTKEY_MISMATCH when live members serve another host
 * key, INVENTORY_UNAVAILABLE when the database cannot be reached.
 */
export class RelayGroup {
  readonly id = randomUUID();
  readonly presence: TunnelPresence;
  /** The group's recordings: this member's are added as they open and close. */
  readonly recordings: RecordingIndex;
  /** Which devices' console logs this member writes (one member per device). */
  readonly consoleLogs: ConsoleLogHolders;
  /** Who has read-write on each device, for the whole group (writer-leases.ts). */
  readonly writers: WriterLeases;
  private readonly sessionPresence: SessionPresence;
  private known: GroupMemberRecord[] = [];
  private readonly changes = new ChangeListeners();
  private listener: PostgresListener | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private reachable = true;
  /**
   * Until then (performance.now() ms), after the database was away, no member is expired or left
   * out of the list: every member's heartbeat failed alike during the outage, so their rows look
   * expired until each has renewed once (issue 12: a PostgreSQL outage must not drop anyone).
   */
  private graceUntil = 0;
  private closed = false;
  private readonly logger: Logger;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: RelayGroupOptions,
  ) {
    this.logger = options.logger.child({ component: 'relay-group' });
    // What this member holds, mirrored for the others: its tunnels and its live sessions.
    const rows = {
      pool,
      relayId: this.id,
      flushMs: options.presenceFlushMs,
      logger: this.logger,
      onMissingMember: () => void this.heartbeat(),
    };
    this.presence = new TunnelPresence(rows);
    this.sessionPresence = new SessionPresence({ ...rows, snapshots: options.sessions });
    this.consoleLogs = new ConsoleLogHolders({
      pool,
      relayId: this.id,
      flushMs: options.presenceFlushMs,
      logger: this.logger,
      ...(options.onConsoleLogsTaken ? { onTaken: options.onConsoleLogsTaken } : {}),
    });
    this.writers = new WriterLeases(pool, this.id, (err) => unavailable(options.where, err));
    this.recordings = new RecordingIndex({ pool, relay: this.advertised, flushMs: options.presenceFlushMs, logger: this.logger });
  }

  static async join(options: RelayGroupOptions): Promise<RelayGroup> {
    // A lost connection shows in the next query's failure (heartbeat, flushes), which says it.
    const pool = postgresPool({ ...options.connection, max: 3, application_name: 'lifeline-relay-group' }, () => undefined);
    const group = new RelayGroup(pool, options);
    try {
      await group.register();
      group.listener = await PostgresListener.open({
        connection: options.connection,
        channels: [CHANNEL, CONSOLE_LOGS_CHANNEL, WRITERS_CHANNEL],
        reconnect: LISTEN_RECONNECT,
        onNotification: (channel, payload) => {
          if (channel === WRITERS_CHANNEL) return options.onWritersChanged?.(payload);
          if (payload === group.id) return;
          if (channel === CONSOLE_LOGS_CHANNEL) group.consoleLogs.reclaim();
          else void group.refresh();
        },
        onLost: () => group.unreachable('the notification connection was lost'),
        onBack: () => void group.heartbeat(),
      });
      await group.refresh();
    } catch (err) {
      await group.close();
      throw err instanceof LifelineError ? err : unavailable(options.where, err);
    }
    group.scheduleHeartbeat();
    group.logger.info(
      {
        event: 'group.joined',
        id: group.id,
        advertise: `${options.advertise.host}:${options.advertise.port}`,
        members: group.known.length,
      },
      `joined the relay group as ${options.advertise.host}:${options.advertise.port} (${group.known.length} members)`,
    );
    return group;
  }

  /** The live members as last read (this relay included), ordered by start time. */
  members(): GroupMemberRecord[] {
    return this.known;
  }

  /** Called after the member list changed (joined, left, expired). Returns the unsubscribe function. */
  onMembersChange(listener: () => void): () => void {
    return this.changes.add(listener);
  }

  /**
   * Which members hold a tunnel of each device now, as `host:port` (from `lifeline_tunnels`).
   * @throws LifelineError INVENTORY_UNAVAILABLE while the database is away.
   */
  async tunnelsByDevice(): Promise<Map<string, string[]>> {
    let rows: Array<{ device_id: string; host: string; port: number }>;
    try {
      rows = (
        await this.pool.query<{ device_id: string; host: string; port: number }>(
          `SELECT t.device_id, r.host, r.port FROM lifeline_tunnels t JOIN lifeline_relays r ON r.id = t.relay_id
           WHERE r.expires_at > now() ORDER BY t.device_id, r.started_at`,
        )
      ).rows;
    } catch (err) {
      throw unavailable(this.options.where, err);
    }
    const byDevice = new Map<string, string[]>();
    for (const row of rows) byDevice.set(row.device_id, [...(byDevice.get(row.device_id) ?? []), `${row.host}:${row.port}`]);
    return byDevice;
  }

  /**
   * The live sessions the other members host now (from `lifeline_sessions`), by device id; of one
   * device only when `deviceId` is given.
   * @throws LifelineError INVENTORY_UNAVAILABLE while the database is away.
   */
  async sessionsElsewhere(deviceId?: string): Promise<SessionElsewhere[]> {
    try {
      const { rows } = await this.pool.query<{ snapshot: SessionElsewhere['snapshot']; host: string; port: number }>(
        `SELECT s.snapshot, r.host, r.port FROM lifeline_sessions s JOIN lifeline_relays r ON r.id = s.relay_id
         WHERE r.expires_at > now() AND r.id <> $1 AND ($2::text IS NULL OR s.device_id = $2) ORDER BY s.device_id, r.started_at`,
        [this.id, deviceId ?? null],
      );
      return rows.map((r) => ({ relay: `${r.host}:${r.port}`, snapshot: r.snapshot }));
    } catch (err) {
      throw unavailable(this.options.where, err);
    }
  }

  /** This relay's advertised `host:port`, as the other members list it. */
  get advertised(): string {
    return `${this.options.advertise.host}:${this.options.advertise.port}`;
  }

  /** Leaves the group (a graceful stop): the row and its presence go at once, and the others are told. */
  async leave(): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.heartbeatTimer);
    this.presence.stop();
    this.sessionPresence.stop();
    this.consoleLogs.stop();
    await this.recordings.finish();
    try {
      await this.pool.query('WITH gone AS (DELETE FROM lifeline_relays WHERE id = $1) SELECT pg_notify($2, $1)', [this.id, CHANNEL]);
    } catch {
      // The database is away: the others see this member expire instead.
    }
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.heartbeatTimer);
    this.presence.stop();
    this.sessionPresence.stop();
    this.consoleLogs.stop();
    this.recordings.stop();
    this.changes.clear();
    await this.listener?.close();
    await this.pool.end().catch(() => undefined);
  }

  /** Inserts this relay's row after checking the host key; under JOIN_LOCK, in one transaction. */
  private async register(): Promise<void> {
    const { advertise, hostKey, expiryMs } = this.options;
    await this.transaction(async (db) => {
      await db.query('SELECT pg_advisory_xact_lock($1)', [JOIN_LOCK.toString()]);
      if (!this.inGrace()) await this.expireOthers(db);
      const others = (
        await db.query<{ host: string; port: number; host_key: string }>(
          'SELECT host, port, host_key FROM lifeline_relays WHERE id <> $1 ORDER BY started_at',
          [this.id],
        )
      ).rows;
      const differing = others.filter((o) => o.host_key !== hostKey);
      if (differing.length > 0) {
        throw new LifelineError(
          'GROUP_HOSTKEY_MISMATCH',
          `this relay's host key ${hostKey} differs from the group's ${differing[0]!.host_key} (members ${differing
            .map((o) => `${o.host}:${o.port}`)
            .join(', ')}): every relay of a group serves the same host key; copy hostKeyFile from a member`,
        );
      }
      await db.query(
        `INSERT INTO lifeline_relays (id, host, port, host_key, started_at, heartbeat_at, expires_at)
         VALUES ($1, $2, $3, $4, now(), now(), now() + $5 * interval '1 millisecond')`,
        [this.id, advertise.host, advertise.port, hostKey, expiryMs],
      );
      await db.query('SELECT pg_notify($1, $2)', [CHANNEL, this.id]);
    });
  }

  /** Renews this relay's row (joining again if it was expired), expires dead members, re-reads the list. */
  private async heartbeat(): Promise<void> {
    if (this.closed) return;
    // The others' heartbeats failed too while the database was away: give each one expiry to
    // renew before judging them (pushed on while it stays away).
    if (!this.reachable) this.graceUntil = performance.now() + this.options.expiryMs;
    try {
      const renewed = await this.transaction(async (db) => {
        const mine = await db.query(
          `UPDATE lifeline_relays SET heartbeat_at = now(), expires_at = now() + $2 * interval '1 millisecond' WHERE id = $1`,
          [this.id, this.options.expiryMs],
        );
        const expired = this.inGrace() ? [] : await this.expireOthers(db);
        if (expired.length > 0) {
          await db.query('SELECT pg_notify($1, $2)', [CHANNEL, this.id]);
          this.logger.warn({ event: 'group.member-expired', members: expired }, `relay group members expired: ${expired.join(', ')}`);
        }
        return (mine.rowCount ?? 0) > 0;
      });
      if (!renewed) {
        // Cut off longer than expiryMs: the others expired this relay; it joins again with its tunnels.
        this.logger.warn({ event: 'group.rejoin', id: this.id }, 'this relay had expired from the group; joining again');
        await this.register();
        this.presence.resync();
        this.sessionPresence.resync();
        this.consoleLogs.reclaim();
      }
      if (!this.reachable) {
        this.reachable = true;
        this.logger.info({ event: 'group.available', database: this.options.where }, 'relay group database back');
        this.presence.resync();
        this.sessionPresence.resync();
        this.consoleLogs.reclaim();
      }
      await this.refresh();
      this.options.onWritersChanged?.();
    } catch (err) {
      this.unreachable((err as Error).message);
    }
  }

  /** Reads the live members; tells the listeners when the list differs from the last one. */
  private async refresh(): Promise<void> {
    if (this.closed) return;
    let rows: Array<{ id: string; host: string; port: number; host_key: string; started_at: Date }>;
    try {
      rows = (
        await this.pool.query<{ id: string; host: string; port: number; host_key: string; started_at: Date }>(
          `SELECT id, host, port, host_key, started_at FROM lifeline_relays WHERE expires_at > now() OR $1 ORDER BY started_at, id`,
          [this.inGrace()],
        )
      ).rows;
    } catch (err) {
      return this.unreachable((err as Error).message);
    }
    const members = rows.map((r) => ({ id: r.id, host: r.host, port: r.port, hostKey: r.host_key, startedAt: r.started_at.toISOString() }));
    const key = (list: GroupMemberRecord[]) => list.map((m) => `${m.id}@${m.host}:${m.port}`).join(',');
    if (key(members) === key(this.known)) return;
    const before = new Set(this.known.map((m) => m.id));
    this.known = members;
    this.logger.info(
      {
        event: 'group.members',
        members: members.map((m) => `${m.host}:${m.port}`),
        joined: members.filter((m) => !before.has(m.id)).map((m) => `${m.host}:${m.port}`),
      },
      `relay group: ${members.length} members`,
    );
    // A member that left took its console logs and writer leases with it: the others take them.
    this.consoleLogs.reclaim();
    this.options.onWritersChanged?.();
    this.changes.notify();
  }

  /** The database is away: the last known members stay; said once until it is back. */
  private unreachable(reason: string): void {
    if (this.closed || !this.reachable) return;
    this.reachable = false;
    this.logger.warn(
      { event: 'group.unavailable', database: this.options.where, reason },
      'relay group database unreachable; keeping the last known members',
    );
  }

  /** Deletes the members whose expiry passed; their `host:port`s. */
  private async expireOthers(db: pg.PoolClient): Promise<string[]> {
    const { rows } = await db.query<{ host: string; port: number }>(
      'DELETE FROM lifeline_relays WHERE expires_at < now() RETURNING host, port',
    );
    return rows.map((r) => `${r.host}:${r.port}`);
  }

  private inGrace(): boolean {
    return performance.now() < this.graceUntil;
  }

  private scheduleHeartbeat(): void {
    if (this.closed) return;
    this.heartbeatTimer = setTimeout(() => {
      void this.heartbeat().finally(() => this.scheduleHeartbeat());
    }, this.options.heartbeatMs);
  }

  private transaction<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work, (err) => unavailable(this.options.where, err));
  }
}

function unavailable(where: string, err: unknown): LifelineError {
  return new LifelineError('INVENTORY_UNAVAILABLE', `${where}: ${(err as Error).message || String(err)}`, { cause: err });
}
