import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { exitCodeFor, isLifelineError } from '@lifeline/shared';
import { capturedLogger, freePort } from '@lifeline/shared/testing';
import type { InventoryStore } from './inventory-store.js';
import { describeInventoryStoreContract } from './inventory-store.contract.js';
import { PostgresInventoryStore, type PostgresInventoryOptions } from './postgres-inventory-store.js';
import { POSTGRES_SCHEMA_VERSION } from './postgres-schema.js';
import { postgresForTests } from './testing/postgres-for-tests.js';

const server = postgresForTests();

function options(database: string, over: Partial<PostgresInventoryOptions> = {}): PostgresInventoryOptions {
  return {
    ...server.connection(database),
    logger: capturedLogger().logger,
    reconnect: { baseMs: 50, capMs: 200 },
    ...over,
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describeInventoryStoreContract('PostgresInventoryStore', async () => {
  const database = await server.createDatabase();
  const opened: InventoryStore[] = [await PostgresInventoryStore.open(options(database))];
  return {
    store: opened[0]!,
    reopen: async () => {
      const store = await PostgresInventoryStore.open(options(database));
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
    },
  };
});

describe('PostgresInventoryStore with a real server', () => {
  it('tells another relay of the group about a change through LISTEN/NOTIFY', async () => {
    const database = await server.createDatabase();
    const [one, two] = [await PostgresInventoryStore.open(options(database)), await PostgresInventoryStore.open(options(database))];
    try {
      const heard = new Promise<void>((resolve) => two.onChange(resolve));
      await one.putDevice({ id: 'rtr-osaka-01', labels: {} });
      await heard;
      expect((await two.load()).devices.map((d) => d.id)).toEqual(['rtr-osaka-01']);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('migrates once when two relays start at the same time', async () => {
    const database = await server.createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresInventoryStore.open(options(database))));
    const client = new pg.Client({ host: server.host, port: server.port, user: server.user, database });
    await client.connect();
    try {
      expect((await client.query('SELECT version FROM lifeline_schema')).rows).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
    } finally {
      await client.end();
      for (const store of stores) await store.close();
    }
  });

  it('refuses a database migrated by a newer relay with INVENTORY_SCHEMA_TOO_NEW (exit 78)', async () => {
    const database = await server.createDatabase();
    await (await PostgresInventoryStore.open(options(database))).close();
    const client = new pg.Client({ host: server.host, port: server.port, user: server.user, database });
    await client.connect();
    await client.query('UPDATE lifeline_schema SET version = $1', [POSTGRES_SCHEMA_VERSION + 1]);
    await client.end();
    const err = await failure(PostgresInventoryStore.open(options(database)));
    expect(isLifelineError(err, 'INVENTORY_SCHEMA_TOO_NEW')).toBe(true);
    expect((err as Error).message).toContain(`newer than this relay knows (${POSTGRES_SCHEMA_VERSION})`);
    expect(exitCodeFor(err)).toBe(78);
  });

  it('says INVENTORY_UNAVAILABLE at open when nothing listens, without the password in the message', async () => {
    const err = await failure(PostgresInventoryStore.open(options('nothing', { port: await freePort(), password: 's3cret-pw' })));
    expect(isLifelineError(err, 'INVENTORY_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/^PostgreSQL postgres@127\.0\.0\.1:\d+\/nothing: /);
    expect((err as Error).message).not.toContain('s3cret-pw');
    expect(exitCodeFor(err)).toBe(69);
  });
});

// Last: it stops the shared server and starts it again.
describe('PostgresInventoryStore across a server outage', () => {
  it('refuses changes while the server is down, then recovers and calls onChange so the relay catches up', async () => {
    const database = await server.createDatabase();
    const store = await PostgresInventoryStore.open(options(database));
    try {
      await store.putUser({ name: 'alice', authorizedKeys: ['k'], role: 'engineer', devices: [], deviceLabels: [] });
      await server.stop();
      // One at a time: a call made before the previous one is awaited could reject unobserved.
      for (const call of [() => store.load(), () => store.putDevice({ id: 'rtr-1', labels: {} }), () => store.removeUser('alice')]) {
        const err = await failure(call());
        expect(isLifelineError(err, 'INVENTORY_UNAVAILABLE')).toBe(true);
      }
      const caughtUp = new Promise<void>((resolve) => store.onChange(resolve));
      await server.start();
      await caughtUp;
      // Nothing of the refused changes was half-written.
      expect(await store.load()).toMatchObject({ users: [{ name: 'alice' }], devices: [] });
      await store.putDevice({ id: 'rtr-1', labels: {} });
      expect((await store.load()).devices).toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 60_000);
});
