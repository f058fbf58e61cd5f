import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { postgresPool } from './postgres-pool.js';
import { postgresForTests } from './testing/postgres-for-tests.js';

const server = postgresForTests();

describe('postgresPool', () => {
  it('reports a checked-out client whose server ended it, instead of an uncaught exception', async () => {
    const database = await server.createDatabase();
    const config = { host: server.host, port: server.port, user: server.user, database };
    const lost: Error[] = [];
    const pool = postgresPool({ ...config, max: 2 }, (err) => lost.push(err));
    const held = await pool.connect();
    const idle = await pool.connect();
    idle.release();
    await held.query('SELECT 1');
    // Another connection ends both server processes, as a restart or failover does.
    const admin = new pg.Client(config);
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    await admin.end();
    await vi.waitFor(() => expect(lost.length).toBe(2), { timeout: 5_000 });
    // Once each: the held client also hears its connection end, which is not reported again.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lost.map((err) => err.message)).toEqual([
      'terminating connection due to administrator command',
      'terminating connection due to administrator command',
    ]);
    // The held client's next query fails to its caller; the pool makes new connections.
    await expect(held.query('SELECT 1')).rejects.toThrow();
    held.release(true);
    await expect(pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await pool.end();
  });
});
