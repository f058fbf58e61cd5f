import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { LifelineError, type Logger } from '@lifeline/shared/core';
import { ChangeListeners } from './change-listeners.js';
import { postgresPool } from './postgres-pool.js';
import { PostgresListener } from './postgres-listener.js';
import { migrateInventorySchema } from './postgres-schema.js';
import { inTransaction } from './postgres-transaction.js';
import type {
  EnrolledAgent,
  EnrolmentToken,
  InventoryStore,
  LearnedInventory,
  RedeemRequest,
  RedeemResult,
  StoredDevice,
  StoredUser,
} from './inventory-store.js';
import { decideRedeem, nextAgentState } from './redeem-decision.js';

/** The NOTIFY channel; the payload is the id of the store that made the change. */
const CHANNEL = 'lifeline_inventory';

export interface PostgresInventoryOptions {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Read by the caller from a 0600 file or LIFELINE_PG_PASSWORD (postgres-password.ts); never logged. */
  password: string | undefined;
  ssl: boolean;
  /** How long a connection attempt may take before the store says INVENTORY_UNAVAILABLE (`store.connectTimeoutMs`). */
  connectTimeoutMs: number;
  logger: Logger;
  /** Backoff of the LISTEN connection's reconnects; LISTEN_RECONNECT unless a test shortens it. */
  reconnect?: { baseMs: number; capMs: number };
}

/**
 * Backoff of the LISTEN connection's reconnects. Not configurable: while the database is away the
 * relay serves from its last snapshot, and the first try after it is back catches up on what was
 * missed; this only bounds how long that takes (15 s at most) and how hard a relay group knocks.
 */
export const LISTEN_RECONNECT = { baseMs: 500, capMs: 15_000 } as const;

/**
 * The inventory store of a relay group, on PostgreSQL through node-postgres. `open` applies the
 * schema migrations in one transaction under an advisory lock, refuses a database newer than this
 * relay (INVENTORY_SCHEMA_TOO_NEW), and throws INVENTORY_UNAVAILABLE when the server cannot be
 * reached. Each change is one transaction that also NOTIFYs the other relays; a dedicated LISTEN
 * connection turns their changes into `onChange` calls. While the server is away every method
 * throws INVENTORY_UNAVAILABLE (nothing half-written); the LISTEN connection reconnects with
 * backoff and calls `onChange` once it is back, so the relay catches up on what it missed.
 */
export class PostgresInventoryStore implements InventoryStore {
  readonly kind = 'postgres' as const;
  private readonly listeners = new ChangeListeners();
  private readonly id = randomUUID();
  private listener: PostgresListener | undefined;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresInventoryOptions,
  ) {}

  /** How to reach the same database (the relay group opens its own connections there). */
  get connection(): pg.ClientConfig {
    return postgresConnection(this.options);
  }

  /** Where, for messages: never the password. */
  get where(): string {
    return `PostgreSQL ${this.options.user}@${this.options.host}:${this.options.port}/${this.options.database}`;
  }

  static async open(options: PostgresInventoryOptions): Promise<PostgresInventoryStore> {
    // A client losing its server is logged; the next query says UNAVAILABLE.
    const pool = postgresPool({ ...postgresConnection(options), max: 4 }, (err) =>
      options.logger.warn({ event: 'inventory.connection-lost', err: err.message }, 'inventory database connection lost'),
    );
    const store = new PostgresInventoryStore(pool, options);
    try {
      await store.migrate();
      await store.listen();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  load(): Promise<LearnedInventory> {
    return this.transaction(async (db) => {
      // REPEATABLE READ: the three tables from one snapshot.
      await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const users = await db.query<{ doc: StoredUser }>('SELECT doc FROM lifeline_users ORDER BY name');
      const devices = await db.query<{ doc: StoredDevice }>('SELECT doc FROM lifeline_devices ORDER BY id');
      const agents = await db.query<AgentRow>('SELECT * FROM lifeline_agents ORDER BY device_id');
      return { users: users.rows.map((r) => r.doc), devices: devices.rows.map((r) => r.doc), agents: agents.rows.map(agentOf) };
    });
  }

  putUser(user: StoredUser): Promise<void> {
    return this.change(async (db) => {
      await db.query('INSERT INTO lifeline_users (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc', [
        user.name,
        JSON.stringify(user),
      ]);
      return { result: undefined, changed: true };
    });
  }

  removeUser(name: string): Promise<boolean> {
    return this.change(async (db) => {
      const removed = ((await db.query('DELETE FROM lifeline_users WHERE name = $1', [name])).rowCount ?? 0) > 0;
      return { result: removed, changed: removed };
    });
  }

  putDevice(device: StoredDevice): Promise<void> {
    return this.change(async (db) => {
      await db.query('INSERT INTO lifeline_devices (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc', [
        device.id,
        JSON.stringify(device),
      ]);
      return { result: undefined, changed: true };
    });
  }

  removeDevice(id: string): Promise<boolean> {
    return this.change(async (db) => {
      const removed = ((await db.query('DELETE FROM lifeline_devices WHERE id = $1', [id])).rowCount ?? 0) > 0;
      const agents = (await db.query('DELETE FROM lifeline_agents WHERE device_id = $1', [id])).rowCount ?? 0;
      await db.query('DELETE FROM lifeline_tokens WHERE device_id = $1', [id]);
      return { result: removed, changed: removed || agents > 0 };
    });
  }

  addToken(token: EnrolmentToken): Promise<void> {
    return this.change(async (db) => {
      await db.query(
        'INSERT INTO lifeline_tokens (token_hash, device_id, created_at, expires_at, created_by) VALUES ($1, $2, $3, $4, $5)',
        [token.tokenHash, token.deviceId, token.createdAt, token.expiresAt, token.createdBy],
      );
      return { result: undefined, changed: true };
    });
  }

  redeem(request: RedeemRequest): Promise<RedeemResult> {
    return this.change(async (db) => {
      // Row locks: of two relays redeeming one token, the second waits and then sees it spent.
      const tokenRow =
        request.tokenHash === undefined
          ? undefined
          : (
              await db.query<{ device_id: string; expires_at: string; used_at: string | null }>(
                'SELECT device_id, expires_at, used_at FROM lifeline_tokens WHERE token_hash = $1 FOR UPDATE',
                [request.tokenHash],
              )
            ).rows[0];
      const agent = await this.agent(db, request.deviceId, true);
      const token = tokenRow && {
        deviceId: tokenRow.device_id,
        expiresAt: Number(tokenRow.expires_at),
        usedAt: tokenRow.used_at === null ? undefined : Number(tokenRow.used_at),
      };
      const decision = decideRedeem(request, token, agent);
      if (decision.kind === 'refuse') return { result: { result: 'refused', reason: decision.reason }, changed: false };
      if (decision.kind === 'unchanged') return { result: decision.result, changed: false };
      await db.query('UPDATE lifeline_tokens SET used_at = $1 WHERE token_hash = $2', [request.now, request.tokenHash]);
      await writeAgent(db, decision.agent);
      return { result: decision.result, changed: true };
    });
  }

  setAgentState(deviceId: string, state: 'approved' | 'revoked', now: number): Promise<EnrolledAgent | undefined> {
    return this.change(async (db) => {
      const agent = await this.agent(db, deviceId, true);
      if (!agent) return { result: undefined, changed: false };
      const next = nextAgentState(agent, state, now);
      if (next !== agent) await writeAgent(db, next);
      return { result: next, changed: next !== agent };
    });
  }

  pruneTokens(olderThan: number): Promise<number> {
    return this.transaction(
      async (db) => (await db.query('DELETE FROM lifeline_tokens WHERE expires_at < $1 OR used_at < $1', [olderThan])).rowCount ?? 0,
    );
  }

  onChange(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.close();
    await this.pool.end().catch(() => undefined);
  }

  private async agent(db: pg.PoolClient, deviceId: string, forUpdate: boolean): Promise<EnrolledAgent | undefined> {
    const row = (
      await db.query<AgentRow>(`SELECT * FROM lifeline_agents WHERE device_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [deviceId])
    ).rows[0];
    return row && agentOf(row);
  }

  /** One transaction that NOTIFYs the group when it changed something; local listeners after the commit. */
  private async change<T>(work: (db: pg.PoolClient) => Promise<{ result: T; changed: boolean }>): Promise<T> {
    let changed = false;
    const result = await this.transaction(async (db) => {
      const outcome = await work(db);
      changed = outcome.changed;
      if (changed) await db.query('SELECT pg_notify($1, $2)', [CHANNEL, this.id]);
      return outcome.result;
    });
    if (changed) this.listeners.notify();
    return result;
  }

  private async transaction<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new LifelineError('INVENTORY_UNAVAILABLE', `${this.where}: the inventory store is closed`);
    return inTransaction(this.pool, work, (err) => this.unavailable(err));
  }

  private unavailable(err: unknown): LifelineError {
    return new LifelineError('INVENTORY_UNAVAILABLE', `${this.where}: ${(err as Error).message || String(err)}`, { cause: err });
  }

  private async migrate(): Promise<void> {
    await this.transaction((db) => migrateInventorySchema(db, this.where));
  }

  /** The LISTEN connection; throws INVENTORY_UNAVAILABLE when it cannot be made. */
  private async listen(): Promise<void> {
    try {
      this.listener = await PostgresListener.open({
        connection: postgresConnection(this.options),
        channels: [CHANNEL],
        reconnect: this.options.reconnect ?? LISTEN_RECONNECT,
        onNotification: (_channel, payload) => {
          if (payload !== this.id) this.listeners.notify();
        },
        onLost: () =>
          this.options.logger.warn(
            { event: 'inventory.unavailable', database: this.where },
            'inventory database unreachable; reconnecting',
          ),
        onBack: () => {
          this.options.logger.info({ event: 'inventory.available', database: this.where }, 'inventory database back');
          // Whatever changed meanwhile: the relay reloads.
          this.listeners.notify();
        },
      });
    } catch (err) {
      throw this.unavailable(err);
    }
    if (this.closed) await this.listener.close();
  }
}

interface AgentRow {
  device_id: string;
  public_key: string;
  state: EnrolledAgent['state'];
  since: string;
  peer: string;
}

function agentOf(row: AgentRow): EnrolledAgent {
  return { deviceId: row.device_id, publicKey: row.public_key, state: row.state, since: Number(row.since), peer: row.peer };
}

async function writeAgent(db: pg.PoolClient, agent: EnrolledAgent): Promise<void> {
  await db.query(
    `INSERT INTO lifeline_agents (device_id, public_key, state, since, peer) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (device_id) DO UPDATE SET public_key = excluded.public_key, state = excluded.state, since = excluded.since, peer = excluded.peer`,
    [agent.deviceId, agent.publicKey, agent.state, agent.since, agent.peer],
  );
}

/** node-postgres settings for these options (the relay group opens its own connections with them). */
export function postgresConnection(options: PostgresInventoryOptions): pg.ClientConfig {
  return {
    host: options.host,
    port: options.port,
    database: options.database,
    user: options.user,
    password: options.password,
    ssl: options.ssl,
    connectionTimeoutMillis: options.connectTimeoutMs,
    application_name: 'lifeline-relay',
  };
}
