import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { capturedLogger } from '@lifeline/shared/testing';
import { PostgresInventoryStore } from '../inventory/postgres-inventory-store.js';
import { postgresForTests } from '../inventory/testing/postgres-for-tests.js';
import { RecordingIndex } from './recording-index.js';

// The group's recordings index against a real PostgreSQL: what two members record, listed and
// filtered from either; retention's deletions; the end written at a stop; an outage.

const server = postgresForTests();

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function twoMembers(): Promise<{ a: RecordingIndex; b: RecordingIndex; query: pg.Pool }> {
  const store = await PostgresInventoryStore.open({ ...server.connection(await server.createDatabase()), logger: capturedLogger().logger });
  const { connection } = store;
  await store.close();
  const pool = new pg.Pool(connection);
  opened.push({ close: () => pool.end() });
  const index = (relay: string) => {
    const i = new RecordingIndex({ pool, relay, flushMs: 20, logger: capturedLogger().logger });
    opened.push({ close: async () => i.stop() });
    return i;
  };
  return { a: index('10.0.0.1:443'), b: index('10.0.0.2:443'), query: pool };
}

async function until<T>(what: string, get: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get().catch(() => undefined);
    if (value !== undefined && ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const at = (iso: string) => new Date(iso);
const rec = (path: string, deviceId: string, user: string, startedAt: string) => ({
  path,
  deviceId,
  user,
  sessionId: `${user}-0123456789`,
  startedAt: at(startedAt),
});

describe('RecordingIndex on a real PostgreSQL', () => {
  it("lists every member's recordings on any member, newest first, with the member that holds each file", async () => {
    const { a, b } = await twoMembers();
    a.record(rec('/srv/a/rtr-1/2026-12-01/one.cast', 'rtr-1', 'alice', '2026-12-01T10:00:00Z'));
    b.record(rec('/srv/b/rtr-1/2026-12-02/two.cast', 'rtr-1', 'bob', '2026-12-02T10:00:00Z'));
    b.record(rec('/srv/b/sw-2/2026-12-03/three.cast', 'sw-2', 'alice', '2026-12-03T10:00:00Z'));
    const all = await until(
      'three recordings',
      () => a.list(),
      (l) => l.length === 3,
    );
    expect(all.map((r) => [r.relay, r.deviceId, r.user, r.startedAt.toISOString()])).toEqual([
      ['10.0.0.2:443', 'sw-2', 'alice', '2026-12-03T10:00:00.000Z'],
      ['10.0.0.2:443', 'rtr-1', 'bob', '2026-12-02T10:00:00.000Z'],
      ['10.0.0.1:443', 'rtr-1', 'alice', '2026-12-01T10:00:00.000Z'],
    ]);
    // Open recordings: no end, no size yet.
    expect(all[0]).toMatchObject({ sessionPrefix: 'alice-01', durationSeconds: undefined, sizeBytes: undefined });
    // Filters, as the CLI's --device, --user, --since and --until (days as instants) give them.
    expect((await b.list({ deviceId: 'rtr-1' })).map((r) => r.user)).toEqual(['bob', 'alice']);
    expect((await b.list({ user: 'alice' })).map((r) => r.deviceId)).toEqual(['sw-2', 'rtr-1']);
    expect((await b.list({ since: at('2026-12-02T00:00:00Z'), untilExclusive: at('2026-12-03T00:00:00Z') })).map((r) => r.user)).toEqual([
      'bob',
    ]);
  });

  it('completes a recording when it closes, forgets what retention deleted, and ends what is open when its relay stops', async () => {
    const { a, b, query } = await twoMembers();
    const one = rec('/srv/a/one.cast', 'rtr-1', 'alice', '2026-12-01T10:00:00Z');
    const two = rec('/srv/a/two.cast', 'rtr-1', 'carol', '2026-12-01T11:00:00Z');
    a.record(one);
    a.record(two);
    a.record({ ...one, endedAt: at('2026-12-01T10:05:30Z'), sizeBytes: 12_345 });
    const closed = await until(
      'one closed',
      () => b.list(),
      (l) => l.length === 2,
    );
    expect(closed.find((r) => r.path === one.path)).toMatchObject({ durationSeconds: 330, sizeBytes: 12_345 });
    a.forget([one.path]);
    await until(
      'one forgotten',
      () => b.list(),
      (l) => l.map((r) => r.path).join() === two.path,
    );
    await a.finish();
    const [ended] = await b.list();
    expect(ended!.durationSeconds).toBeGreaterThan(0);
    // Only its own: B's open recordings stay open.
    b.record(rec('/srv/b/three.cast', 'sw-2', 'bob', '2026-12-01T12:00:00Z'));
    await until(
      'B recorded',
      () => b.list(),
      (l) => l.length === 2,
    );
    expect((await query.query('SELECT count(*)::int AS n FROM lifeline_recordings WHERE ended_at IS NULL')).rows[0]).toEqual({ n: 1 });
  });

  it('keeps what it could not write while PostgreSQL is away, and writes it when it is back', async () => {
    const { a, b } = await twoMembers();
    await server.stop();
    try {
      a.record(rec('/srv/a/during.cast', 'rtr-1', 'alice', '2026-12-01T10:00:00Z'));
      await expect(b.list()).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await server.start();
    }
    await until(
      'written after the outage',
      () => b.list(),
      (l) => l.length === 1,
      10_000,
    );
  }, 30_000);
});
