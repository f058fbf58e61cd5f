import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresServer } from './postgres-server.js';

/**
 * The test file's PostgreSQL: started (initdb on a free loopback port) before its tests and
 * destroyed after them. Call at the top level of a test file; the server it returns may be used
 * from the tests and their hooks on.
 */
export function postgresForTests(): PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });
  return new Proxy({} as PostgresServer, {
    get(_, key) {
      if (!server) throw new Error('PostgreSQL is not started yet: use it in tests and hooks, not at load');
      const value = Reflect.get(server, key, server) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(server) : value;
    },
  });
}
