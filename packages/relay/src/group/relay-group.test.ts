import type { Duplex } from 'node:stream';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeFor, isLifelineError } from '@lifeline/shared';
import { capturedLogger } from '@lifeline/shared/testing';
import { PostgresInventoryStore } from '../inventory/postgres-inventory-store.js';
import { postgresForTests } from '../inventory/testing/postgres-for-tests.js';
import type { AgentTunnel } from '../tunnel/agent-tunnel.js';
import type { RelayGroup, RelayGroupOptions } from './relay-group.js';
import { groupDatabase, joinForTests, until } from './testing/group-for-tests.js';

// RelayGroup against a real PostgreSQL: membership, expiry, the host key rule, an outage, and
// the batched tunnel presence.

const server = postgresForTests();

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

const KEY = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** The relay's inventory store on `database`: opening it migrates the database. */
function openStore(database: string): Promise<PostgresInventoryStore> {
  return PostgresInventoryStore.open({ ...server.connection(database), logger: capturedLogger().logger });
}

/** A migrated database, as the relay's inventory store leaves it. */
const migratedDatabase = () => groupDatabase(server);

async function join(db: { connection: pg.ClientConfig; where: string }, port: number, over: Partial<RelayGroupOptions> = {}) {
  const group = await joinForTests(db, port, over);
  opened.push(group);
  return group;
}

const ports = (group: RelayGroup) => group.members().map((m) => m.port);

function tunnel(deviceId: string): AgentTunnel {
  return {
    deviceId,
    peer: '10.0.0.1:40000',
    agentFingerprint: 'SHA256:x',
    tunnelPort: 10_000,
    since: Date.now(),
    agentVersion: 'lifelineAgent_test',
    openStream: () => Promise.resolve(undefined as unknown as Duplex),
    close: () => undefined,
    drop: () => undefined,
    onClosed: () => undefined,
  };
}

describe('RelayGroup on a real PostgreSQL', () => {
  it('gets its tables from schema migrations 2 to 6, applied to a database an earlier relay left at version 1', async () => {
    const db = await migratedDatabase();
    const client = new pg.Client(db.connection);
    await client.connect();
    try {
      // As a relay of schema 1 left it: no group tables.
      await client.query(
        'DROP TABLE lifeline_writers; DROP SEQUENCE lifeline_writer_tokens; DROP FUNCTION lifeline_writers_notify; DROP TABLE lifeline_console_logs; DROP TABLE lifeline_recordings; DROP TABLE lifeline_sessions; DROP TABLE lifeline_tunnels; DROP TABLE lifeline_relays; UPDATE lifeline_schema SET version = 1',
      );
      await (await openStore(db.connection.database!)).close();
      expect((await client.query('SELECT version FROM lifeline_schema')).rows).toEqual([{ version: 6 }]);
      expect((await client.query("SELECT to_regclass('lifeline_relays') AS t")).rows[0]).toEqual({ t: 'lifeline_relays' });
      expect((await client.query("SELECT to_regclass('lifeline_sessions') AS t")).rows[0]).toEqual({ t: 'lifeline_sessions' });
      expect((await client.query("SELECT to_regclass('lifeline_recordings') AS t")).rows[0]).toEqual({ t: 'lifeline_recordings' });
      expect((await client.query("SELECT to_regclass('lifeline_console_logs') AS t")).rows[0]).toEqual({ t: 'lifeline_console_logs' });
      expect((await client.query("SELECT to_regclass('lifeline_writers') AS t")).rows[0]).toEqual({ t: 'lifeline_writers' });
    } finally {
      await client.end();
    }
    const a = await join(db, 1001);
    expect(ports(a)).toEqual([1001]);
  });

  it('lists every member on every member, and tells them when one joins or leaves', async () => {
    const db = await migratedDatabase();
    const a = await join(db, 1001);
    const b = await join(db, 1002);
    await until('A sees B', () => ports(a).length === 2);
    expect(ports(b)).toEqual([1001, 1002]);
    let changes = 0;
    a.onMembersChange(() => changes++);
    const c = await join(db, 1003);
    await until('A sees C', () => ports(a).includes(1003));
    await c.leave();
    await until('A sees C leave', () => !ports(a).includes(1003));
    expect(changes).toBe(2);
  });

  it('drops a member that stops renewing (a killed relay) after its expiry, with its tunnel presence', async () => {
    const db = await migratedDatabase();
    const a = await join(db, 1001);
    const b = await join(db, 1002);
    b.presence.online(tunnel('rtr-1'));
    await until('presence written', async () => (await a.tunnelsByDevice()).get('rtr-1')?.join() === '127.0.0.1:1002');
    // Closed without leaving: the row stays until it expires, as after SIGKILL.
    await b.close();
    const gone = Date.now();
    await until('B expired', () => ports(a).join() === '1001', 4_000);
    // The expiry, a heartbeat to notice it, and slack for a loaded machine.
    expect(Date.now() - gone).toBeLessThan(1_000 + 150 + 1_500);
    expect((await a.tunnelsByDevice()).get('rtr-1')).toBeUndefined();
  });

  it('refuses a relay whose host key differs from the live members', async () => {
    const db = await migratedDatabase();
    await join(db, 1001);
    const err = await join(db, 1002, { hostKey: 'SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB' }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'GROUP_HOSTKEY_MISMATCH')).toBe(true);
    expect(exitCodeFor(err)).toBe(78);
    expect((err as Error).message).toContain(`differs from the group's ${KEY} (members 127.0.0.1:1001)`);
  });

  it('keeps the last known members while PostgreSQL is down, and repairs membership and presence when it is back', async () => {
    const db = await migratedDatabase();
    const a = await join(db, 1001);
    const b = await join(db, 1002);
    b.presence.online(tunnel('rtr-1'));
    await until('both see both', () => ports(a).length === 2 && ports(b).length === 2);
    // What each member announces to agents from here on: it must never lose the other.
    const lists: string[] = [];
    for (const group of [a, b]) group.onMembersChange(() => lists.push([...ports(group)].sort().join()));
    await server.stop();
    try {
      // Longer than the expiry: nobody may conclude anything from a database that is away.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(ports(a)).toEqual([1001, 1002]);
      expect(ports(b)).toEqual([1001, 1002]);
      b.presence.online(tunnel('sw-2'));
      await expect(a.tunnelsByDevice()).rejects.toThrow(/PostgreSQL/);
    } finally {
      await server.start();
    }
    // Both renew (neither expires the other: every heartbeat failed alike while the database was
    // away, so each gets one expiry to renew) and rewrite their presence.
    const sorted = (group: RelayGroup) => [...ports(group)].sort().join();
    await until('members repaired', () => sorted(a) === '1001,1002' && sorted(b) === '1001,1002', 10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(lists.filter((list) => list !== '1001,1002')).toEqual([]);
    await until(
      'presence repaired',
      async () => {
        const byDevice = await a.tunnelsByDevice().catch(() => new Map<string, string[]>());
        return byDevice.get('rtr-1')?.join() === '127.0.0.1:1002' && byDevice.get('sw-2')?.join() === '127.0.0.1:1002';
      },
      10_000,
    );
  }, 30_000);

  it("keeps each member's live sessions for the others to list: new, changed and ended ones, and a dead member's gone with it", async () => {
    const db = await migratedDatabase();
    let live = [{ deviceId: 'rtr-1', writer: 'alice', viewers: ['bob'] }];
    const a = await join(db, 1001, { sessions: () => live });
    const b = await join(db, 1002);
    const seenFromB = async () =>
      (await b.sessionsElsewhere()).map(
        (s) => `${s.relay} ${s.snapshot.deviceId} ${String(s.snapshot.writer)} ${String(s.snapshot.viewers)}`,
      );
    await until('alice on rtr-1 at A, seen from B', async () => (await seenFromB()).join() === '127.0.0.1:1001 rtr-1 alice bob');
    // Its own sessions are not "elsewhere" for A.
    expect(await a.sessionsElsewhere()).toEqual([]);
    live = [
      { deviceId: 'rtr-1', writer: 'bob', viewers: [] },
      { deviceId: 'sw-2', writer: 'carol', viewers: [] },
    ];
    await until(
      'the writer change and a new session',
      async () => (await seenFromB()).join() === '127.0.0.1:1001 rtr-1 bob ,127.0.0.1:1001 sw-2 carol ',
    );
    // One device's, as `who` asks for them.
    expect((await b.sessionsElsewhere('sw-2')).map((s) => s.snapshot.writer)).toEqual(['carol']);
    live = [{ deviceId: 'sw-2', writer: 'carol', viewers: [] }];
    await until('the ended session gone', async () => (await seenFromB()).join() === '127.0.0.1:1001 sw-2 carol ');
    // A dies without leaving (SIGKILL): its sessions go when it expires.
    await a.close();
    await until('A expired, and its sessions with it', async () => (await seenFromB()).length === 0, 10_000);
  }, 30_000);

  it('writes 10,000 devices x 3 relays of presence in a few batches', async () => {
    const db = await migratedDatabase();
    const relays = [
      await join(db, 1001, { presenceFlushMs: 200 }),
      await join(db, 1002, { presenceFlushMs: 200 }),
      await join(db, 1003, { presenceFlushMs: 200 }),
    ];
    const started = Date.now();
    for (const relay of relays) for (let i = 0; i < 10_000; i++) relay.presence.online(tunnel(`dev-${i}`));
    const client = new pg.Client(db.connection);
    opened.push({ close: () => client.end() });
    await client.connect();
    await until(
      '30,000 rows',
      async () => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM lifeline_tunnels')).rows[0]!.n) === 30_000,
      20_000,
    );
    const tookMs = Date.now() - started;
    // One flush per relay: far under what 30,000 single-row transactions would take.
    expect(tookMs).toBeLessThan(10_000);
    const byDevice = await relays[1]!.tunnelsByDevice();
    expect(byDevice.size).toBe(10_000);
    expect(byDevice.get('dev-9999')?.sort()).toEqual(['127.0.0.1:1001', '127.0.0.1:1002', '127.0.0.1:1003']);
    for (let i = 0; i < 5_000; i++) relays[0]!.presence.offline(`dev-${i}`);
    await until(
      '25,000 rows',
      async () => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM lifeline_tunnels')).rows[0]!.n) === 25_000,
      20_000,
    );
  }, 60_000);
});
