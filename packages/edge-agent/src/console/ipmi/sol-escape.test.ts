import { describe, expect, it } from 'vitest';
import { BREAK_NOTICE, SolInputEncoder, SolOutputFilter } from './sol-escape.js';

/**
 * A model of how `ipmitool sol activate` (1.8.19, lib/ipmi_sol.c) reads its stdin, written from
 * its documented behaviour: `~` right after CR or LF (or first) starts an escape; `~~` is one `~`,
 * `~B` a break, `~.` quit, `~?` help, `~^Z`/`~^X` suspend; any other `~x` is sent as `~x`.
 */
function ipmitoolReads(input: Buffer): { sent: Buffer; escapes: string[] } {
  const sent: number[] = [];
  const escapes: string[] = [];
  let lineStart = true;
  let pending = false;
  for (const byte of input) {
    if (pending) {
      pending = false;
      const ch = String.fromCharCode(byte);
      if ('.B?'.includes(ch) || byte === 0x1a || byte === 0x18) {
        escapes.push(ch);
        if (ch === '.') lineStart = false;
        continue;
      }
      if (byte !== 0x7e) sent.push(0x7e);
      sent.push(byte);
    } else if (lineStart && byte === 0x7e) {
      pending = true;
      continue;
    } else {
      sent.push(byte);
    }
    lineStart = byte === 0x0d || byte === 0x0a;
  }
  return { sent: Buffer.from(sent), escapes };
}

function lcgBytes(length: number, seed: number, alphabet?: number[]): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    out[i] = alphabet ? alphabet[(x >>> 16) % alphabet.length]! : x >>> 24;
  }
  return out;
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('SolInputEncoder', () => {
  it('lets all 256 byte values through ipmitool unchanged, with no escape taken', () => {
    const encoder = new SolInputEncoder();
    const read = ipmitoolReads(encoder.encode(allBytes));
    expect(read.sent).toEqual(allBytes);
    expect(read.escapes).toEqual([]);
  });

  it('never lets data after CR or LF act as an escape, whatever byte follows the tilde', () => {
    for (const newline of [0x0d, 0x0a]) {
      for (let byte = 0; byte < 256; byte++) {
        const data = Buffer.from([0x41, newline, 0x7e, byte, newline, 0x7e, 0x7e, byte]);
        const read = ipmitoolReads(new SolInputEncoder().encode(data));
        expect(read.escapes, `byte ${byte}`).toEqual([]);
        expect(read.sent).toEqual(data);
      }
    }
  });

  it('keeps ipmitool state across writes split at every point, on tilde-heavy data', () => {
    const data = lcgBytes(4_000, 7, [0x7e, 0x7e, 0x0d, 0x0a, 0x42, 0x2e, 0x3f, 0x1a, 0x41, 0x00, 0xff]);
    for (const size of [1, 2, 3, 5, 64]) {
      const encoder = new SolInputEncoder();
      const parts: Buffer[] = [];
      for (let at = 0; at < data.length; at += size) parts.push(encoder.encode(data.subarray(at, at + size)));
      const read = ipmitoolReads(Buffer.concat(parts));
      expect(read.escapes).toEqual([]);
      expect(read.sent).toEqual(data);
    }
  });

  it('passes random binary data unchanged and only grows it by doubled tildes', () => {
    const data = lcgBytes(64 * 1024, 99);
    const encoded = new SolInputEncoder().encode(data);
    expect(ipmitoolReads(encoded).sent).toEqual(data);
    expect(encoded.length).toBeGreaterThanOrEqual(data.length);
  });

  it('returns the very buffer when nothing needs escaping', () => {
    const data = Buffer.from('show version\r');
    expect(new SolInputEncoder().encode(data)).toBe(data);
  });

  it('offers the break escape only at line start, and ipmitool takes it as a break there', () => {
    const encoder = new SolInputEncoder();
    const stream: Buffer[] = [];
    stream.push(encoder.breakSequence()!);
    stream.push(encoder.breakSequence()!); // still at line start after a break
    stream.push(encoder.encode(Buffer.from('enable')));
    expect(encoder.breakSequence()).toBeUndefined();
    stream.push(encoder.encode(Buffer.from('\r')));
    stream.push(encoder.breakSequence()!);
    stream.push(encoder.encode(Buffer.from('~x')));
    const read = ipmitoolReads(Buffer.concat(stream));
    expect(read.escapes).toEqual(['B', 'B', 'B']);
    expect(read.sent.toString('latin1')).toBe('enable\r~x');
  });
});

describe('SolOutputFilter', () => {
  const before = Buffer.from('Router#');
  const after = Buffer.from('rommon 1 > ');
  const stream = Buffer.concat([before, BREAK_NOTICE, after]);

  it('removes the notice of an expected break, split across chunks at any point', () => {
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const filter = new SolOutputFilter();
        filter.expectBreakNotice();
        const out = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)].map((c) => filter.push(c));
        expect(Buffer.concat(out).toString(), `split ${a}/${b}`).toBe('Router#rommon 1 > ');
        expect(filter.pendingNotices).toBe(0);
      }
    }
  });

  it('leaves the same text alone when no break was sent', () => {
    const filter = new SolOutputFilter();
    expect(filter.push(stream)).toEqual(stream);
  });

  it('removes one notice per break sent and no more', () => {
    const filter = new SolOutputFilter();
    filter.expectBreakNotice();
    filter.expectBreakNotice();
    const out = filter.push(Buffer.concat([BREAK_NOTICE, Buffer.from('a'), BREAK_NOTICE, BREAK_NOTICE]));
    expect(out).toEqual(Buffer.concat([Buffer.from('a'), BREAK_NOTICE]));
  });

  it('holds back only bytes that could begin the notice, and gives them back on flush', () => {
    const filter = new SolOutputFilter();
    filter.expectBreakNotice();
    expect(filter.push(Buffer.from('abc~')).toString()).toBe('abc');
    expect(filter.push(Buffer.from('~')).toString()).toBe('~');
    expect(filter.flush().toString()).toBe('~');
    expect(filter.pendingNotices).toBe(0);
  });
});
