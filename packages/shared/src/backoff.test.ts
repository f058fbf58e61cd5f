import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles the ceiling on each failure up to the cap', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1_000, random: () => 0.999999 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([99, 199, 399, 799, 999]);
  });

  it('draws each delay uniformly below the ceiling (full jitter)', () => {
    const b = new Backoff({ baseMs: 1_000, capMs: 30_000, random: () => 0.5 });
    expect(b.next()).toBe(500);
    expect(b.next()).toBe(1_000);
  });

  it('starts from the bottom again after reset', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1_000, random: () => 0.999999 });
    b.next();
    b.next();
    b.reset();
    expect(b.failures).toBe(0);
    expect(b.next()).toBe(99);
  });

  it('refuses a cap below the base', () => {
    expect(() => new Backoff({ baseMs: 100, capMs: 10 })).toThrow(RangeError);
  });
});
