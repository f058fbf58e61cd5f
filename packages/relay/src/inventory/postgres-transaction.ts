import type pg from 'pg';
import { LifelineError } from '@lifeline/shared/core';

/**
 * Runs `work` as one transaction on a client of `pool` (BEGIN, COMMIT; ROLLBACK when it throws).
 * A LifelineError from `work` is a decision, rethrown as it is; any other error (the server went
 * away, a constraint) comes back through `unavailable`, and that client is dropped from the pool
 * rather than reused. Used by the inventory store and the relay group alike.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (db: pg.PoolClient) => Promise<T>,
  unavailable: (err: unknown) => LifelineError,
): Promise<T> {
  let db: pg.PoolClient;
  try {
    db = await pool.connect();
  } catch (err) {
    throw unavailable(err);
  }
  let broken = false;
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    if (err instanceof LifelineError) throw err;
    broken = true;
    throw unavailable(err);
  } finally {
    db.release(broken ? true : undefined);
  }
}
