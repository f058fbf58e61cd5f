import { describe, expect, it } from 'vitest';
import { InputHolder } from './input-holder.js';

describe('InputHolder', () => {
  it('lets a relay alone write at any time', () => {
    let now = 0;
    const holder = new InputHolder(1_000, () => now);
    for (now = 0; now < 5_000; now += 300) expect(holder.take('a').ok).toBe(true);
  });

  it('refuses a second relay while the first typed within holdMs, telling it once per hold', () => {
    let now = 0;
    const holder = new InputHolder(1_000, () => now);
    expect(holder.take('a').ok).toBe(true);
    now = 400;
    const first = holder.take('b');
    expect(first).toEqual({
      ok: false,
      holder: 'a',
      refusal: expect.stringContaining('a person on another relay of the group (a)') as string,
    });
    now = 500;
    expect(holder.take('b')).toEqual({ ok: false, holder: 'a', refusal: undefined });
    // A keeps typing: its hold goes on.
    expect(holder.take('a').ok).toBe(true);
    now = 1_400;
    expect(holder.take('b').ok).toBe(false);
    // A quiet for holdMs: B takes it, and A is refused in turn.
    now = 1_500;
    expect(holder.take('b').ok).toBe(true);
    now = 1_600;
    expect(holder.take('a')).toMatchObject({ ok: false, holder: 'b', refusal: expect.any(String) as string });
  });

  it('frees the input at once when the holding relay goes', () => {
    let now = 0;
    const holder = new InputHolder(60_000, () => now);
    expect(holder.take('a').ok).toBe(true);
    now = 10;
    expect(holder.take('b').ok).toBe(false);
    holder.release('a');
    expect(holder.take('b').ok).toBe(true);
  });
});
