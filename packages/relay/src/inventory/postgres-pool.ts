import pg from 'pg';

/**
 * A connection pool that never lets a lost server crash the relay. pg reports a connection the
 * server ends (a restart, a failover, `pg_terminate_backend`) as an `error` event: on the pool for
 * an idle client, but on the client itself when it is checked out or ending, where an event
 * without a listener is an uncaught exception. Each lost connection goes to `onLost` once; the
 * next query on that client fails and says so to its caller.
 */
export function postgresPool(config: pg.PoolConfig, onLost: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool(config);
  // Every client reports to `onLost` itself, once (a checked-out one hears the server's message,
  // then the connection's end); the pool repeats an idle client's error: not heard again.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    client.once('error', onLost);
  });
  pool.on('error', () => undefined);
  return pool;
}
