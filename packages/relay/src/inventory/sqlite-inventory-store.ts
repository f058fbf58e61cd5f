import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { LifelineError } from '@lifeline/shared/core';
import { ChangeListeners } from './change-listeners.js';
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
import { decideRedeem, nextAgentState, type TokenRow } from './redeem-decision.js';

/** The schema this relay writes (`PRAGMA user_version`); a database with a higher one is refused. */
export const SQLITE_SCHEMA_VERSION = 1;

/** Migrations by the version they lead to; each runs in the transaction that sets user_version. */
const migrations: Record<number, string> = {
  1: `
    CREATE TABLE users (name TEXT PRIMARY KEY, doc TEXT NOT NULL) STRICT;
    CREATE TABLE devices (id TEXT PRIMARY KEY, doc TEXT NOT NULL) STRICT;
    CREATE TABLE agents (
      device_id TEXT PRIMARY KEY,
      public_key TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'revoked')),
      since INTEGER NOT NULL,
      peer TEXT NOT NULL
    ) STRICT;
    CREATE TABLE tokens (
      token_hash TEXT PRIMARY KEY,
      device_id TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      used_at INTEGER
    ) STRICT;
    CREATE INDEX tokens_device ON tokens (device_id);
  `,
};

/**
 * The embedded inventory store: one SQLite file in the relay's state folder through Node.js 24's
 * built-in `node:sqlite` (no native module, no server). The file is created with mode 0600 and an
 * existing one is tightened to it (it holds password hashes); WAL journal, so a SIGKILL mid-write
 * leaves the last committed state. Each change is one transaction (`BEGIN IMMEDIATE`, so a second
 * process on the same file waits instead of interleaving).
 *
 * `open` throws INVENTORY_SCHEMA_TOO_NEW for a file written by a newer relay and
 * INVENTORY_UNAVAILABLE when the file cannot be opened; methods throw INVENTORY_UNAVAILABLE
 * when SQLite fails (disk full, file removed) or after `close`.
 */
export class SqliteInventoryStore implements InventoryStore {
  readonly kind = 'sqlite' as const;
  private readonly listeners = new ChangeListeners();
  private closed = false;

  private constructor(
    private readonly db: DatabaseSync,
    readonly path: string,
  ) {}

  static open(path: string): SqliteInventoryStore {
    const fail = (what: string, err: unknown) =>
      new LifelineError('INVENTORY_UNAVAILABLE', `inventory database ${path}: ${what}: ${(err as Error).message}`, { cause: err });
    try {
      // Created 0600 before SQLite sees it; an existing file is tightened (WAL and shm files take its mode).
      closeSync(openSync(path, 'a', 0o600));
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    } catch (err) {
      throw fail('cannot create it', err);
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
    } catch (err) {
      throw fail('cannot open it', err);
    }
    try {
      migrate(db, path);
    } catch (err) {
      db.close();
      if (err instanceof LifelineError) throw err;
      throw fail('cannot set up its tables', err);
    }
    return new SqliteInventoryStore(db, path);
  }

  load(): Promise<LearnedInventory> {
    return this.run(() => {
      // One read transaction: the three tables from the same moment.
      this.db.exec('BEGIN');
      try {
        const users = this.db.prepare('SELECT doc FROM users ORDER BY name').all() as Array<{ doc: string }>;
        const devices = this.db.prepare('SELECT doc FROM devices ORDER BY id').all() as Array<{ doc: string }>;
        const agents = (this.db.prepare('SELECT * FROM agents ORDER BY device_id').all() as unknown as AgentRow[]).map(agentOf);
        return {
          users: users.map((r) => JSON.parse(r.doc) as StoredUser),
          devices: devices.map((r) => JSON.parse(r.doc) as StoredDevice),
          agents,
        };
      } finally {
        this.db.exec('COMMIT');
      }
    });
  }

  putUser(user: StoredUser): Promise<void> {
    return this.change(() => {
      this.db
        .prepare('INSERT INTO users (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc')
        .run(user.name, JSON.stringify(user));
    });
  }

  removeUser(name: string): Promise<boolean> {
    return this.change(() => Number(this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes) > 0);
  }

  putDevice(device: StoredDevice): Promise<void> {
    return this.change(() => {
      this.db
        .prepare('INSERT INTO devices (id, doc) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc')
        .run(device.id, JSON.stringify(device));
    });
  }

  removeDevice(id: string): Promise<boolean> {
    return this.change(() => {
      const removed = Number(this.db.prepare('DELETE FROM devices WHERE id = ?').run(id).changes) > 0;
      this.db.prepare('DELETE FROM agents WHERE device_id = ?').run(id);
      this.db.prepare('DELETE FROM tokens WHERE device_id = ?').run(id);
      return removed;
    });
  }

  addToken(token: EnrolmentToken): Promise<void> {
    return this.change(() => {
      this.db
        .prepare('INSERT INTO tokens (token_hash, device_id, created_at, expires_at, created_by) VALUES (?, ?, ?, ?, ?)')
        .run(token.tokenHash, token.deviceId, token.createdAt, token.expiresAt, token.createdBy);
    });
  }

  async redeem(request: RedeemRequest): Promise<RedeemResult> {
    let changed = false;
    const result = await this.run(() =>
      this.transaction(() => {
        const row =
          request.tokenHash === undefined
            ? undefined
            : (this.db.prepare('SELECT device_id, expires_at, used_at FROM tokens WHERE token_hash = ?').get(request.tokenHash) as
                { device_id: string; expires_at: number; used_at: number | null } | undefined);
        const token: TokenRow | undefined = row && { deviceId: row.device_id, expiresAt: row.expires_at, usedAt: row.used_at ?? undefined };
        const decision = decideRedeem(request, token, this.agent(request.deviceId));
        if (decision.kind === 'refuse') return { result: 'refused', reason: decision.reason } as const;
        if (decision.kind === 'bind') {
          this.db.prepare('UPDATE tokens SET used_at = ? WHERE token_hash = ?').run(request.now, request.tokenHash!);
          this.writeAgent(decision.agent);
          changed = true;
        }
        return decision.result;
      }),
    );
    if (changed) this.listeners.notify();
    return result;
  }

  async setAgentState(deviceId: string, state: 'approved' | 'revoked', now: number): Promise<EnrolledAgent | undefined> {
    let changed = false;
    const result = await this.run(() =>
      this.transaction(() => {
        const agent = this.agent(deviceId);
        if (!agent) return undefined;
        const next = nextAgentState(agent, state, now);
        if (next !== agent) {
          this.writeAgent(next);
          changed = true;
        }
        return next;
      }),
    );
    if (changed) this.listeners.notify();
    return result;
  }

  pruneTokens(olderThan: number): Promise<number> {
    // Tokens are not part of load(): no listener needs to know.
    return this.run(() =>
      this.transaction(() =>
        Number(this.db.prepare('DELETE FROM tokens WHERE expires_at < ? OR used_at < ?').run(olderThan, olderThan).changes),
      ),
    );
  }

  onChange(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.listeners.clear();
      this.db.close();
    }
    return Promise.resolve();
  }

  private agent(deviceId: string): EnrolledAgent | undefined {
    const row = this.db.prepare('SELECT * FROM agents WHERE device_id = ?').get(deviceId) as AgentRow | undefined;
    return row && agentOf(row);
  }

  private writeAgent(agent: EnrolledAgent): void {
    this.db
      .prepare(
        `INSERT INTO agents (device_id, public_key, state, since, peer) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET public_key = excluded.public_key, state = excluded.state, since = excluded.since, peer = excluded.peer`,
      )
      .run(agent.deviceId, agent.publicKey, agent.state, agent.since, agent.peer);
  }

  /** One write transaction; a change made is told to the listeners after the commit. */
  private async change<T>(work: () => T): Promise<T> {
    const result = await this.run(() => this.transaction(work));
    this.listeners.notify();
    return result;
  }

  private transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** SQLite's own failures as INVENTORY_UNAVAILABLE; a promise either way, as the interface is async. */
  private run<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new LifelineError('INVENTORY_UNAVAILABLE', `inventory database ${this.path} is closed`));
    try {
      return Promise.resolve(work());
    } catch (err) {
      if (err instanceof LifelineError) return Promise.reject(err);
      return Promise.reject(
        new LifelineError('INVENTORY_UNAVAILABLE', `inventory database ${this.path}: ${(err as Error).message}`, { cause: err }),
      );
    }
  }
}

interface AgentRow {
  device_id: string;
  public_key: string;
  state: EnrolledAgent['state'];
  since: number;
  peer: string;
}

function agentOf(row: AgentRow): EnrolledAgent {
  return { deviceId: row.device_id, publicKey: row.public_key, state: row.state, since: row.since, peer: row.peer };
}

/** Brings the file to SQLITE_SCHEMA_VERSION, one transaction per step; refuses a newer file. */
function migrate(db: DatabaseSync, path: string): void {
  const version = () => (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  const found = version();
  if (found > SQLITE_SCHEMA_VERSION) {
    throw new LifelineError(
      'INVENTORY_SCHEMA_TOO_NEW',
      `inventory database ${path} has schema version ${found}, newer than this relay knows (${SQLITE_SCHEMA_VERSION}): upgrade the relay or restore a backup of the database`,
    );
  }
  for (let next = found + 1; next <= SQLITE_SCHEMA_VERSION; next++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have migrated meanwhile.
      if (version() < next) db.exec(`${migrations[next]!}\nPRAGMA user_version = ${next};`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
}
