import { describe, expect, it } from 'vitest';
import { FakeClock } from '@lifeline/shared/testing';
import { LoginThrottle } from './login-throttle.js';

const config = { failureDelayMs: 1_000, maxFailuresPerWindow: 3, windowMs: 60_000 };

describe('LoginThrottle', () => {
  it('asks for the configured delay after each failure', () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    expect(throttle.recordFailure('10.0.0.1')).toEqual({ delayMs: 1_000, blocked: false });
  });

  it('blocks an address at its Nth failure within the window', () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    throttle.recordFailure('10.0.0.1');
    expect(throttle.isBlocked('10.0.0.1')).toBe(false);
    throttle.recordFailure('10.0.0.1');
    expect(throttle.recordFailure('10.0.0.1').blocked).toBe(true);
    expect(throttle.isBlocked('10.0.0.1')).toBe(true);
  });

  it('counts each address on its own', () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    for (let i = 0; i < 3; i++) throttle.recordFailure('10.0.0.1');
    expect(throttle.isBlocked('10.0.0.2')).toBe(false);
    expect(throttle.recordFailure('10.0.0.2').blocked).toBe(false);
  });

  it('lets a blocked address in again once its oldest counted failure leaves the window', async () => {
    const clock = new FakeClock(1_000_000);
    const throttle = new LoginThrottle(config, clock);
    throttle.recordFailure('10.0.0.1');
    await clock.advance(10_000);
    throttle.recordFailure('10.0.0.1');
    throttle.recordFailure('10.0.0.1');
    await clock.advance(49_999);
    expect(throttle.isBlocked('10.0.0.1')).toBe(true);
    await clock.advance(1);
    expect(throttle.isBlocked('10.0.0.1')).toBe(false);
    // The two later failures still count: one more blocks again.
    expect(throttle.recordFailure('10.0.0.1').blocked).toBe(true);
  });

  it('forgets failures older than the window', async () => {
    const clock = new FakeClock();
    const throttle = new LoginThrottle(config, clock);
    throttle.recordFailure('10.0.0.1');
    throttle.recordFailure('10.0.0.1');
    await clock.advance(60_000);
    expect(throttle.recordFailure('10.0.0.1').blocked).toBe(false);
    expect(throttle.recordFailure('10.0.0.1').blocked).toBe(false);
  });

  it('drops addresses whose failures have all expired', async () => {
    const clock = new FakeClock();
    const throttle = new LoginThrottle(config, clock);
    for (let i = 0; i < 100; i++) throttle.recordFailure(`10.0.1.${i}`);
    expect(throttle.trackedKeys).toBe(100);
    await clock.advance(60_001);
    throttle.recordFailure('10.0.0.9');
    expect(throttle.trackedKeys).toBe(1);
  });

  it('does not extend a block when a blocked address is only checked', async () => {
    const clock = new FakeClock();
    const throttle = new LoginThrottle({ ...config, maxFailuresPerWindow: 1 }, clock);
    throttle.recordFailure('10.0.0.1');
    for (let i = 0; i < 5; i++) {
      await clock.advance(10_000);
      expect(throttle.isBlocked('10.0.0.1')).toBe(true);
    }
    await clock.advance(10_000);
    expect(throttle.isBlocked('10.0.0.1')).toBe(false);
  });

  it('lets no more attempts be checked at once than failures remain, and refuses the rest once they fail', async () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    const settled: Array<string> = [];
    const begun = Array.from({ length: 10 }, (_, i) =>
      throttle.begin('10.0.0.1').then((a) => (settled.push(a ? `go ${i}` : `refused ${i}`), a)),
    );
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toEqual(['go 0', 'go 1', 'go 2']);
    const first = await Promise.all(begun.slice(0, 3));
    for (const a of first) a!.failed();
    const rest = await Promise.all(begun.slice(3));
    expect(rest.every((a) => a === undefined)).toBe(true);
    expect(throttle.isBlocked('10.0.0.1')).toBe(true);
  });

  it('lets a burst of attempts that succeed all through, a few at a time', async () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    const done = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const a = await throttle.begin('10.0.0.1');
        await new Promise((r) => setTimeout(r, 1));
        a!.withdraw();
        return a !== undefined;
      }),
    );
    expect(done.every(Boolean)).toBe(true);
    expect(throttle.isBlocked('10.0.0.1')).toBe(false);
    expect(throttle.trackedKeys).toBe(0);
  });

  it('keeps a settled failure counted whatever happens to the attempt afterwards', async () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    const a = (await throttle.begin('10.0.0.1'))!;
    a.failed();
    a.withdraw();
    throttle.recordFailure('10.0.0.1');
    expect(throttle.recordFailure('10.0.0.1').blocked).toBe(true);
  });

  it('drops a waiting attempt whose client hung up', async () => {
    const throttle = new LoginThrottle({ ...config, maxFailuresPerWindow: 1 }, new FakeClock());
    const first = (await throttle.begin('k'))!;
    const hungUp = new AbortController();
    const waiting = throttle.begin('k', hungUp.signal);
    hungUp.abort(new Error('connection closed'));
    await expect(waiting).rejects.toThrow('connection closed');
    first.withdraw();
    expect(throttle.trackedKeys).toBe(0);
  });

  it('tells a failure that reached the limit to disconnect', async () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    throttle.recordFailure('k');
    throttle.recordFailure('k');
    const a = (await throttle.begin('k'))!;
    expect(a.failed()).toEqual({ delayMs: 1_000, blocked: true });
  });
});
