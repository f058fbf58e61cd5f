import { randomBytes, randomInt } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { describe, expect, it } from 'vitest';
import { JsonTextEncoder } from './json-text-encoder.js';

/** What the recorder wrote before: a streaming decoder's text, escaped by JSON.stringify, as UTF-8. */
function reference(chunks: Buffer[]): string {
  const decoder = new TextDecoder('utf-8');
  const text = chunks.map((c) => decoder.decode(c, { stream: true })).join('') + decoder.decode();
  return JSON.stringify(text).slice(1, -1);
}

function encoded(chunks: Buffer[]): string {
  const encoder = new JsonTextEncoder();
  return Buffer.concat([...chunks.map((c) => encoder.encode(c)), encoder.end()]).toString('utf8');
}

/** `data` cut at random places (pieces of 0 to 7 bytes, so characters are split often). */
function cut(data: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length;) {
    const size = randomInt(0, 8);
    pieces.push(data.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

/** Bytes that exercise UTF-8's edges: lead bytes, continuation bytes, and the bounds of the special leads. */
const EDGE_BYTES = [
  0x00, 0x08, 0x0a, 0x1b, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef,
  0xf0, 0xf1, 0xf4, 0xf5, 0xff,
];

function edgeBytes(length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => EDGE_BYTES[randomInt(EDGE_BYTES.length)]!));
}

describe('JsonTextEncoder', () => {
  it('writes text as JSON would, escapes included', () => {
    const text = 'Router# show ver\r\n\t"quoted" back\\slash \x1b[1mbold\x1b[0m \x00\x7f é 中 😀';
    const chunks = [Buffer.from(text, 'utf8')];
    expect(encoded(chunks)).toBe(JSON.stringify(text).slice(1, -1));
    expect(JSON.parse(`"${encoded(chunks)}"`)).toBe(text);
  });

  it('joins a character split across chunks, at every split point', () => {
    const bytes = Buffer.from('a😀b中c', 'utf8');
    for (let at = 0; at <= bytes.length; at++) {
      expect(encoded([bytes.subarray(0, at), bytes.subarray(at)])).toBe('a😀b中c');
    }
  });

  it('makes each maximal invalid subpart one U+FFFD, as the WHATWG decoder does', () => {
    // A lead without its continuation, a surrogate (ED A0 80), an overlong form (E0 80 80, C0 AF),
    // a code point above U+10FFFF (F4 90 80 80), stray continuation bytes, and a cut-off end.
    const bytes = Buffer.from([
      0xe2, 0x82, 0x41, 0xed, 0xa0, 0x80, 0xe0, 0x80, 0x80, 0xc0, 0xaf, 0xf4, 0x90, 0x80, 0x80, 0x80, 0xbf, 0xf0, 0x9f, 0x98,
    ]);
    expect(encoded([bytes])).toBe(reference([bytes]));
    expect(encoded([bytes])).toBe('\ufffdA' + '\ufffd'.repeat(15));
  });

  it('gives what StringDecoder and JSON.stringify gave, for random bytes cut at random places', () => {
    for (let round = 0; round < 200; round++) {
      const data = round % 2 === 0 ? randomBytes(randomInt(0, 600)) : edgeBytes(randomInt(0, 600));
      const chunks = cut(data);
      const expected = reference(chunks);
      expect(encoded(chunks)).toBe(expected);
      // Node.js's StringDecoder (the recorder's decoder before) agrees with the WHATWG reference.
      const decoder = new StringDecoder('utf8');
      expect(JSON.stringify(chunks.map((c) => decoder.write(c)).join('') + decoder.end()).slice(1, -1)).toBe(expected);
    }
  });

  it('holds the start of a character until the next chunk, and makes it U+FFFD at the end', () => {
    const encoder = new JsonTextEncoder();
    expect(encoder.encode(Buffer.from([0x41, 0xe4, 0xb8])).toString()).toBe('A');
    expect(encoder.encode(Buffer.from([0xad])).toString()).toBe('中');
    expect(encoder.encode(Buffer.from([0xf0, 0x9f])).toString()).toBe('');
    expect(encoder.end().toString()).toBe('\ufffd');
    expect(encoder.end().length).toBe(0);
  });

  it('forgets a held character on reset (its rest was dropped)', () => {
    const encoder = new JsonTextEncoder();
    encoder.encode(Buffer.from([0xe4, 0xb8]));
    encoder.reset();
    // Without the reset the 0xad would complete the character; now it is a stray continuation byte.
    expect(encoder.encode(Buffer.from([0xad, 0x42])).toString()).toBe('\ufffdB');
  });

  it('puts the text between a frame in one buffer, and gives nothing when there is no text', () => {
    const encoder = new JsonTextEncoder();
    const frame = { start: '[1.5,"o","', end: Buffer.from('"]\n') };
    expect(encoder.encode(Buffer.from('a"\x1b'), frame).toString()).toBe('[1.5,"o","a\\"\\u001b"]\n');
    expect(encoder.encode(Buffer.from([0xe4, 0xb8]), frame).length).toBe(0);
    expect(encoder.end(frame).toString()).toBe('[1.5,"o","\ufffd"]\n');
    expect(encoder.end(frame).length).toBe(0);
  });

  it('returns a buffer of its own each time (the next encode does not change it)', () => {
    const encoder = new JsonTextEncoder();
    const first = encoder.encode(Buffer.from('first'));
    encoder.encode(Buffer.from('\x1b'.repeat(100_000)));
    expect(first.toString()).toBe('first');
  });
});
