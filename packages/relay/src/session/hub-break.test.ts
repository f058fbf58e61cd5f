import { describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { HubBreak } from './hub-break.js';
import type { UpstreamConsole } from './upstream-console.js';

/** Just the break line of an upstream: what setBreak was called with, in order. */
function breakLine(): { upstream: UpstreamConsole; breaks: boolean[] } {
  const breaks: boolean[] = [];
  const upstream = { setBreak: (on: boolean) => void breaks.push(on) } as unknown as UpstreamConsole;
  return { upstream, breaks };
}

const device = { id: 'rtr-1', breakMs: 500, maxBreakMs: 3_000 };

describe('HubBreak', () => {
  it('restarts the length when a second break comes while one is on, and releases the line once', async () => {
    const clock = new FakeClock();
    const line = breakLine();
    const hubBreak = new HubBreak({ device, clock, upstream: () => line.upstream });
    expect(hubBreak.send(1_000)).toBe(1_000);
    await clock.advance(800);
    expect(hubBreak.send(1_000)).toBe(1_000);
    await clock.advance(800);
    expect(line.breaks).toEqual([true, true]);
    await clock.advance(200);
    expect(line.breaks).toEqual([true, true, false]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('releases the break on the upstream current when the time is up, not on one that went', async () => {
    const clock = new FakeClock();
    const first = breakLine();
    const second = breakLine();
    let current = first.upstream;
    const hubBreak = new HubBreak({ device, clock, upstream: () => current });
    hubBreak.send(undefined);
    current = second.upstream;
    await clock.advance(500);
    expect(first.breaks).toEqual([true]);
    expect(second.breaks).toEqual([false]);
  });

  it('forgets a break in progress on cancel: the line is not touched again', async () => {
    const clock = new FakeClock();
    const line = breakLine();
    const hubBreak = new HubBreak({ device, clock, upstream: () => line.upstream });
    hubBreak.send(0);
    hubBreak.cancel();
    await clock.advance(10_000);
    expect(line.breaks).toEqual([true]);
  });

  it('refuses with ROUTE_DEVICE_OFFLINE when there is no upstream, and starts no timer', () => {
    const clock = new FakeClock();
    const hubBreak = new HubBreak({ device, clock, upstream: () => undefined });
    let thrown: unknown;
    try {
      hubBreak.send(1_000);
    } catch (err) {
      thrown = err;
    }
    expect(isLifelineError(thrown) && thrown.code).toBe('ROUTE_DEVICE_OFFLINE');
    expect(clock.pendingTimers).toBe(0);
  });
});
