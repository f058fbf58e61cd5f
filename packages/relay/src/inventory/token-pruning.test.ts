import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LifelineError } from '@lifeline/shared';
import { FakeClock, capturedLogger } from '@lifeline/shared/testing';
import { generateUsableKeyPair } from '../ssh/testing/relay-test-harness.js';
import type { RedeemRequest } from './inventory-store.js';
import { SqliteInventoryStore } from './sqlite-inventory-store.js';
import { TOKEN_KEEP_MS, TOKEN_PRUNE_EVERY_MS, startTokenPruning } from './token-pruning.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
const KEY = generateUsableKeyPair('pi-1').public;

/** Waits for what a timer's run did (the store answers on later ticks than FakeClock.advance awaits). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('pruning expired enrolment tokens on a schedule (real SQLite store, fake clock)', () => {
  let dir: string;
  let store: SqliteInventoryStore;
  const redeem = (tokenHash: string, now: number): RedeemRequest => ({
    deviceId: 'pi-1',
    tokenHash,
    publicKey: KEY,
    peer: '192.0.2.7',
    now,
    approval: 'manual',
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'token-pruning-'));
    store = SqliteInventoryStore.open(join(dir, 'inventory.db'));
    await store.putDevice({ id: 'pi-1', labels: {} });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes a token a week after it expired, at the next hourly run, and keeps a live one', async () => {
    const clock = new FakeClock(T0);
    const log = capturedLogger();
    await store.addToken({ deviceId: 'pi-1', tokenHash: 'a'.repeat(64), createdAt: T0, expiresAt: T0 + HOUR, createdBy: 'os:root' });
    await store.addToken({
      deviceId: 'pi-1',
      tokenHash: 'b'.repeat(64),
      createdAt: T0,
      expiresAt: T0 + 30 * 24 * HOUR,
      createdBy: 'os:root',
    });
    const pruning = startTokenPruning({ store, clock, logger: log.logger });
    // One run per call: the next timer is armed once the store answered.
    const nextRun = async () => {
      await until(() => clock.pendingTimers === 1);
      await clock.advance(TOKEN_PRUNE_EVERY_MS);
      await until(() => clock.pendingTimers === 1);
    };
    try {
      // Expired an hour after T0, but kept for a week: meanwhile the agent is told "expired", not "unknown".
      while (clock.now() < T0 + HOUR + TOKEN_KEEP_MS) await nextRun();
      expect(log.lines.filter((l) => l.event === 'enrolment.tokens-pruned')).toEqual([]);
      expect(await store.redeem(redeem('a'.repeat(64), clock.now()))).toEqual({ result: 'refused', reason: 'expired' });

      await nextRun();
      await until(() => log.lines.some((l) => l.event === 'enrolment.tokens-pruned'));
      expect(log.lines.filter((l) => l.event === 'enrolment.tokens-pruned')).toMatchObject([{ removed: 1 }]);
      expect(await store.redeem(redeem('a'.repeat(64), clock.now()))).toEqual({ result: 'refused', reason: 'unknown' });
      // The live token still works.
      expect((await store.redeem(redeem('b'.repeat(64), clock.now()))).result).toBe('pending');
    } finally {
      pruning.cancel();
    }
    expect(clock.pendingTimers).toBe(0);
  });

  it('prunes at start, and tries again at the next run when the store cannot be reached', async () => {
    const clock = new FakeClock(T0 + 30 * 24 * HOUR);
    const log = capturedLogger();
    const cutoffs: number[] = [];
    let reachable = false;
    const flaky = {
      pruneTokens: (olderThan: number) => {
        cutoffs.push(olderThan);
        return reachable ? Promise.resolve(3) : Promise.reject(new LifelineError('INVENTORY_UNAVAILABLE', 'database down'));
      },
    };
    const pruning = startTokenPruning({ store: flaky, clock, logger: log.logger });
    await until(() => clock.pendingTimers === 1);
    expect(cutoffs).toEqual([clock.now() - TOKEN_KEEP_MS]);
    expect(log.lines.find((l) => l.event === 'enrolment.tokens-prune-failed')).toBeDefined();
    reachable = true;
    await clock.advance(TOKEN_PRUNE_EVERY_MS);
    await until(() => log.lines.some((l) => l.event === 'enrolment.tokens-pruned'));
    expect(cutoffs).toHaveLength(2);
    expect(log.lines.find((l) => l.event === 'enrolment.tokens-pruned')).toMatchObject({ removed: 3 });
    pruning.cancel();
    await clock.advance(10 * TOKEN_PRUNE_EVERY_MS);
    expect(cutoffs).toHaveLength(2);
  });
});
