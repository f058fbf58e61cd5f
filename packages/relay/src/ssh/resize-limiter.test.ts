import { describe, expect, it } from 'vitest';
import { FakeClock } from '@lifeline/shared/testing';
import type { TerminalSize } from '../session/console-broker.js';
import { ResizeLimiter } from './resize-limiter.js';

function limiter(perSecond: number) {
  const clock = new FakeClock(1_000_000);
  const applied: TerminalSize[] = [];
  const l = new ResizeLimiter((size) => applied.push(size), perSecond, clock);
  return { clock, applied, l };
}

describe('ResizeLimiter', () => {
  it('applies a lone change at once', () => {
    const { applied, l } = limiter(10);
    l.push({ cols: 120, rows: 40 });
    expect(applied).toEqual([{ cols: 120, rows: 40 }]);
  });

  it('coalesces a flood into at most perSecond changes a second, ending with the last size sent', async () => {
    const { clock, applied, l } = limiter(10);
    for (let i = 1; i <= 20_000; i++) {
      l.push({ cols: 80 + (i % 50), rows: 24 + (i % 20) });
      if (i % 20 === 0) await clock.advance(1); // 20,000 changes over one second
    }
    await clock.advance(1_000);
    // One at once, then one per 100 ms turn during the second, then the trailing one.
    expect(applied.length).toBeLessThanOrEqual(12);
    expect(applied.at(-1)).toEqual({ cols: 80 + (20_000 % 50), rows: 24 + (20_000 % 20) });
  });

  it('applies the latest size when its turn comes, not the ones in between', async () => {
    const { clock, applied, l } = limiter(4);
    l.push({ cols: 1, rows: 1 });
    l.push({ cols: 2, rows: 2 });
    l.push({ cols: 3, rows: 3 });
    expect(applied).toEqual([{ cols: 1, rows: 1 }]);
    await clock.advance(249);
    expect(applied).toHaveLength(1);
    await clock.advance(1);
    expect(applied).toEqual([
      { cols: 1, rows: 1 },
      { cols: 3, rows: 3 },
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('applies nothing after stop', async () => {
    const { clock, applied, l } = limiter(1);
    l.push({ cols: 1, rows: 1 });
    l.push({ cols: 2, rows: 2 });
    l.stop();
    l.push({ cols: 3, rows: 3 });
    await clock.advance(5_000);
    expect(applied).toEqual([{ cols: 1, rows: 1 }]);
  });
});
