import { describe, expect, it } from 'vitest';
import { ByteRing } from './byte-ring.js';

describe('ByteRing', () => {
  it('holds everything while under capacity, in order', () => {
    const ring = new ByteRing(8);
    ring.write(Buffer.from('abc'));
    ring.write(Buffer.from('de'));
    expect(ring.contents().toString()).toBe('abcde');
    expect(ring.length).toBe(5);
  });

  it('keeps only the last capacity bytes across wraparound', () => {
    const ring = new ByteRing(8);
    ring.write(Buffer.from('abcdef'));
    ring.write(Buffer.from('ghijk'));
    expect(ring.contents().toString()).toBe('defghijk');
    ring.write(Buffer.from('lmn'));
    expect(ring.contents().toString()).toBe('ghijklmn');
  });

  it('keeps the tail of a chunk longer than the ring', () => {
    const ring = new ByteRing(4);
    ring.write(Buffer.from('xy'));
    ring.write(Buffer.from('0123456789'));
    expect(ring.contents().toString()).toBe('6789');
  });

  it('keeps every byte value exactly, 0x00 and 0xFF included', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const ring = new ByteRing(300);
    for (let i = 0; i < 3; i++) for (let j = 0; j < all.length; j += 7) ring.write(all.subarray(j, j + 7));
    const expected = Buffer.concat([all, all, all]).subarray(768 - 300);
    expect(ring.contents().equals(expected)).toBe(true);
  });

  it('returns a copy the next write does not change', () => {
    const ring = new ByteRing(4);
    ring.write(Buffer.from('abcd'));
    const copy = ring.contents();
    ring.write(Buffer.from('zz'));
    expect(copy.toString()).toBe('abcd');
  });

  it('holds nothing with capacity 0', () => {
    const ring = new ByteRing(0);
    ring.write(Buffer.from('abc'));
    expect(ring.contents().length).toBe(0);
  });
});
