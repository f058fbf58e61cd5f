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

  it('counts an attempt from its beginning, so parallel attempts past the limit are refused before any check', () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    const started = Array.from({ length: 10 }, () => throttle.begin('10.0.0.1'));
    expect(started.filter((a) => a !== undefined)).toHaveLength(3);
    expect(throttle.isBlocked('10.0.0.1')).toBe(true);
  });

  it('takes back the count of an attempt that succeeded or was abandoned', () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    for (let i = 0; i < 10; i++) throttle.begin('10.0.0.1')!.withdraw();
    expect(throttle.isBlocked('10.0.0.1')).toBe(false);
    expect(throttle.trackedKeys).toBe(0);
    const a = throttle.begin('10.0.0.1')!;
    a.failed();
    a.withdraw(); // settled already: the failure stays
    throttle.recordFailure('10.0.0.1');
    expect(throttle.recordFailure('10.0.0.1').blocked).toBe(true);
  });

  it('tells a failure that reached the limit to disconnect', () => {
    const throttle = new LoginThrottle(config, new FakeClock());
    const attempts = [throttle.begin('k')!, throttle.begin('k')!, throttle.begin('k')!];
    expect(attempts[0]!.failed()).toEqual({ delayMs: 1_000, blocked: true });
  });
});
