import type pg from 'pg';
import { capturedLogger } from '@lifeline/shared/testing';
import { PostgresInventoryStore } from '../../inventory/postgres-inventory-store.js';
import type { PostgresServer } from '../../inventory/testing/postgres-server.js';
import { RelayGroup, type RelayGroupOptions } from '../relay-group.js';

/** A fresh database on `server`, migrated by the store as a relay's start would: what RelayGroup.join needs. */
export async function groupDatabase(server: PostgresServer): Promise<{ connection: pg.ClientConfig; where: string }> {
  const store = await PostgresInventoryStore.open({ ...server.connection(await server.createDatabase()), logger: capturedLogger().logger });
  const { connection, where } = store;
  await store.close();
  return { connection, where };
}

/** Polls `check` every 20 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Joins a RelayGroup on `db` as a member advertising 127.0.0.1:`port`, with the quick timings the
 * group's unit tests use (heartbeat 150 ms, expiry 1 s, flushes every 20 ms); `extra` adds or
 * overrides options. The caller closes it.
 */
export function joinForTests(
  db: { connection: pg.ClientConfig; where: string },
  port: number,
  extra: Partial<RelayGroupOptions> = {},
): Promise<RelayGroup> {
  return RelayGroup.join({
    ...db,
    advertise: { host: '127.0.0.1', port },
    hostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    // Short, with room for a loaded test machine: a late heartbeat must not expire a live member.
    heartbeatMs: 150,
    expiryMs: 1_000,
    presenceFlushMs: 20,
    sessions: () => [],
    logger: capturedLogger().logger,
    ...extra,
  });
}
