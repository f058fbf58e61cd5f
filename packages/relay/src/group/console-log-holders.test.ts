import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresForTests } from '../inventory/testing/postgres-for-tests.js';
import { groupDatabase, joinForTests, until } from './testing/group-for-tests.js';
import type { AgentTunnel } from '../tunnel/agent-tunnel.js';
import type { RelayGroup } from './relay-group.js';

// Which member writes each device's console log, against a real PostgreSQL: one writer per
// device, handed on when it lets go of the tunnel or dies. Real RelayGroups, so the NOTIFY and
// member-expiry paths are the production ones.

const server = postgresForTests();
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

const database = () => groupDatabase(server);

async function join(db: { connection: pg.ClientConfig; where: string }, port: number): Promise<RelayGroup> {
  const group = await joinForTests(db, port);
  opened.push(group);
  return group;
}

const tunnel = (deviceId: string) => ({ deviceId, peer: '192.0.2.1:1', since: Date.now() }) as unknown as AgentTunnel;

/** Members A and B, both with rtr-1's tunnel, A first: A writes its log. */
async function bothWithRtr1(): Promise<{ a: RelayGroup; b: RelayGroup }> {
  const db = await database();
  const a = await join(db, 1001);
  const b = await join(db, 1002);
  a.consoleLogs.online(tunnel('rtr-1'));
  await until('A writes rtr-1', () => a.consoleLogs.holds('rtr-1'));
  b.consoleLogs.online(tunnel('rtr-1'));
  return { a, b };
}

describe('ConsoleLogHolders on a real PostgreSQL', () => {
  it('gives each device one writer among the members with its tunnel, and hands it on when that one lets go', async () => {
    const { a, b } = await bothWithRtr1();
    b.consoleLogs.online(tunnel('sw-2'));
    await until('B writes sw-2', () => b.consoleLogs.holds('sw-2'));
    await new Promise((r) => setTimeout(r, 200));
    // One writer per device: B has rtr-1's tunnel too, but A took its log first.
    expect([a.consoleLogs.holds('rtr-1'), b.consoleLogs.holds('rtr-1')]).toEqual([true, false]);
    expect(a.consoleLogs.holds('sw-2')).toBe(false);
    // A loses rtr-1's tunnel: B is told and takes the log.
    a.consoleLogs.offline('rtr-1');
    await until('B writes rtr-1', () => b.consoleLogs.holds('rtr-1'));
    await until('A no longer does', () => !a.consoleLogs.holds('rtr-1'));
  }, 30_000);

  it("hands a dead member's logs to the others once it has expired", async () => {
    const { a, b } = await bothWithRtr1();
    await new Promise((r) => setTimeout(r, 200));
    expect(b.consoleLogs.holds('rtr-1')).toBe(false);
    // A dies without a word (its heartbeat stops; its rows go when it expires).
    await a.close();
    await until('B writes rtr-1 after A expired', () => b.consoleLogs.holds('rtr-1'), 10_000);
  }, 30_000);
});
