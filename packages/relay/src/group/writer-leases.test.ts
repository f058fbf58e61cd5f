import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LifelineError } from '@lifeline/shared/core';
import { capturedLogger } from '@lifeline/shared/testing';
import { postgresForTests } from '../inventory/testing/postgres-for-tests.js';
import { groupDatabase, joinForTests, until } from './testing/group-for-tests.js';
import { newPerson } from '../session/person.js';
import { GroupSeatLeases } from './group-seat-leases.js';
import type { RelayGroup } from './relay-group.js';
import { WriterLeases } from './writer-leases.js';

// The group's writer lease per device against a real PostgreSQL: one holder, a larger token on
// every change, rows gone with their member, and the seat leases' view of it (NOTIFY, outage).
// Real RelayGroups, so the NOTIFY and member-expiry paths are the production ones.

const server = postgresForTests();
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

const database = () => groupDatabase(server);

/** A member whose writer leases feed a GroupSeatLeases, as relay.ts wires them. */
async function member(
  db: { connection: pg.ClientConfig; where: string },
  port: number,
): Promise<{ group: RelayGroup; seats: GroupSeatLeases }> {
  const seats = new GroupSeatLeases(capturedLogger().logger);
  const group = await joinForTests(db, port, { onWritersChanged: (deviceId) => seats.refresh(deviceId) });
  opened.push(group);
  seats.connect(group.writers, group.id);
  return { group, seats };
}

/** Members A (127.0.0.1:1001) and B (:1002) of a new group. */
async function twoMembers() {
  const db = await database();
  return { db, a: await member(db, 1001), b: await member(db, 1002) };
}

const person = (user: string) => newPerson({ user, sessionId: `${user}-session`, peer: '192.0.2.9:1', attachAs: 'participant' });
const holderOf = (user: string) => ({ user, sessionId: `${user}-session` });

describe('WriterLeases on a real PostgreSQL', () => {
  it('gives a device to the first claim; a second member learns who holds it and where', async () => {
    const { a, b } = await twoMembers();
    const [first, second] = await Promise.all([
      a.group.writers.claim('rtr-1', holderOf('alice')),
      b.group.writers.claim('rtr-1', holderOf('bob')),
    ]);
    const winners = [first, second].filter((r) => r.won);
    expect(winners).toHaveLength(1);
    const loser = first.won ? second : first;
    expect(loser).toMatchObject({
      won: false,
      holder: { deviceId: 'rtr-1', user: first.won ? 'alice' : 'bob', relay: first.won ? '127.0.0.1:1001' : '127.0.0.1:1002' },
    });
    // Another device is another lease.
    expect((await b.group.writers.claim('sw-2', holderOf('bob'))).won).toBe(true);
  }, 30_000);

  it('gives every takeover a larger token; a release with a replaced token frees nothing', async () => {
    const { a, b } = await twoMembers();
    const claimed = await a.group.writers.claim('rtr-1', holderOf('alice'));
    if (!claimed.won) throw new Error('first claim lost');
    const taken = await b.group.writers.takeOver('rtr-1', holderOf('bob'));
    expect(taken > claimed.token).toBe(true);
    // A's writer leaves late, with the token B replaced: B keeps the device.
    expect(await a.group.writers.release('rtr-1', claimed.token)).toBe(false);
    expect((await a.group.writers.read(['rtr-1'])).get('rtr-1')).toMatchObject({ user: 'bob', relay: '127.0.0.1:1002', token: taken });
    expect(await b.group.writers.release('rtr-1', taken)).toBe(true);
    expect((await a.group.writers.read(['rtr-1'])).size).toBe(0);
    // Free again: the next claim's token is larger than any before.
    const again = await a.group.writers.claim('rtr-1', holderOf('alice'));
    expect(again.won && again.token > taken).toBe(true);
  }, 30_000);

  it("frees a dead member's devices once it expires, and the members watching are told", async () => {
    const { a, b } = await twoMembers();
    const seen = b.seats.forDevice('rtr-1');
    let told = 0;
    seen.watch(() => told++);
    const granted = await a.seats.forDevice('rtr-1').claim(person('alice'));
    expect(granted).toMatchObject({ granted: true });
    await until('B sees A hold it', () => seen.holder()?.here === false);
    expect(seen.holder()).toMatchObject({ here: false, user: 'alice', relay: '127.0.0.1:1001' });
    // B's claim now names A's person and relay.
    expect(await seen.claim(person('bob'))).toEqual({ granted: false, holder: { user: 'alice', relay: '127.0.0.1:1001' } });
    const toldBefore = told;
    // A dies without a word: its heartbeat stops, and its lease goes with its row when it expires.
    await a.group.close();
    await until('the lease is free', () => seen.holder() === undefined, 10_000);
    expect(told).toBeGreaterThan(toldBefore);
    const next = await seen.claim(person('bob'));
    expect(next.granted && granted.granted && next.token! > granted.token!).toBe(true);
  }, 30_000);

  it('tells a member that its writer lost the seat to a takeover elsewhere (NOTIFY)', async () => {
    const { a, b } = await twoMembers();
    const mine = a.seats.forDevice('rtr-1');
    const changes: unknown[] = [];
    mine.watch(() => changes.push(mine.holder()));
    const granted = await mine.claim(person('alice'));
    expect(mine.holder()).toEqual({ here: true, token: granted.granted ? granted.token : undefined });
    const taken = await b.seats.forDevice('rtr-1').takeOver(person('bob'));
    await until('A is told', () => changes.length > 0);
    expect(changes.at(-1)).toEqual({ here: false, token: taken.granted ? taken.token : undefined, user: 'bob', relay: '127.0.0.1:1002' });
  }, 30_000);

  it('reads again only the device a NOTIFY names; every watched device at the heartbeat', async () => {
    const { a, b } = await twoMembers();
    const watched = ['rtr-1', 'sw-2', 'sw-3'];
    for (const id of watched) b.seats.forDevice(id).watch(() => undefined);
    const reads: string[][] = [];
    const read = b.group.writers.read.bind(b.group.writers);
    b.group.writers.read = (ids) => (reads.push([...ids].sort()), read(ids));
    await until('a heartbeat reads every watched device', () => reads.some((ids) => ids.length === watched.length));
    reads.length = 0;
    await a.seats.forDevice('sw-2').claim(person('alice'));
    await until('B sees A hold sw-2', () => b.seats.forDevice('sw-2').holder()?.here === false);
    // The NOTIFY's read asks for sw-2 alone (a heartbeat's asks for all three).
    await until('a read of sw-2 alone', () => reads.some((ids) => ids.join() === 'sw-2'));
    expect(reads.every((ids) => ids.join() === 'sw-2' || ids.join() === watched.join())).toBe(true);
  }, 30_000);

  it('refuses claims before the member has joined, and tells the hubs once it has', async () => {
    const db = await database();
    const seats = new GroupSeatLeases(capturedLogger().logger);
    const lease = seats.forDevice('rtr-1');
    let told = 0;
    lease.watch(() => told++);
    expect(await lease.claim(person('alice'))).toEqual({ granted: false, why: 'this relay has not joined its relay group yet' });
    const group = await joinForTests(db, 1001);
    opened.push(group);
    seats.connect(group.writers, group.id);
    expect(told).toBe(1);
    expect(await lease.claim(person('alice'))).toMatchObject({ granted: true });
  }, 30_000);

  it('refuses claims with a plain reason while the database cannot be reached, keeping what it last read', async () => {
    const db = await database();
    const a = await member(db, 1001);
    const lease = a.seats.forDevice('rtr-1');
    const granted = await lease.claim(person('alice'));
    expect(granted.granted).toBe(true);
    // The same member, its database gone: a pool to a port nobody listens on.
    const away = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 500 });
    away.on('error', () => undefined);
    opened.push({ close: () => away.end() });
    const seats = new GroupSeatLeases(capturedLogger().logger);
    seats.connect(new WriterLeases(away, a.group.id, (err) => new LifelineError('INVENTORY_UNAVAILABLE', String(err))), a.group.id);
    expect(await seats.forDevice('sw-2').claim(person('bob'))).toEqual({
      granted: false,
      why: "the relay group's database cannot be reached",
    });
    expect(await seats.forDevice('sw-2').takeOver(person('bob'))).toEqual({
      granted: false,
      why: "the relay group's database cannot be reached",
    });
    // A failed read changes nothing: the writer already seated keeps the seat.
    lease.recheck();
    await new Promise((r) => setTimeout(r, 200));
    expect(lease.holder()).toMatchObject({ here: true });
  }, 30_000);
});
