import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IAC, TelnetCommand as C, TelnetOption } from './telnet-constants.js';
import { escapeIac } from './telnet-encoder.js';
import { TelnetParser, type TelnetEvent } from './telnet-parser.js';

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** Feeds the chunks and merges adjacent data events, so tests compare meaning, not chunking. */
function parse(chunks: Buffer[], parser = new TelnetParser()): TelnetEvent[] {
  const out: TelnetEvent[] = [];
  for (const chunk of chunks) {
    for (const event of parser.feed(chunk)) {
      const last = out[out.length - 1];
      if (event.type === 'data' && last?.type === 'data') {
        expect(event.data.length).toBeGreaterThan(0);
        last.data = Buffer.concat([last.data, event.data]);
      } else {
        out.push(event);
      }
    }
  }
  return out;
}

function dataOf(events: TelnetEvent[]): Buffer {
  return Buffer.concat(events.flatMap((e) => (e.type === 'data' ? [e.data] : [])));
}

function randomChunks(buf: Buffer, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < buf.length;) {
    const n = 1 + Math.floor(Math.random() * maxChunk);
    chunks.push(buf.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

describe('TelnetParser', () => {
  it('passes a chunk without IAC through as the same buffer', () => {
    const chunk = Buffer.from('Router>');
    const events = new TelnetParser().feed(chunk);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({ type: 'data', data: chunk });
    expect((events[0] as { data: Buffer }).data).toBe(chunk);
  });

  it('un-doubles IAC IAC into one 0xFF data byte', () => {
    expect(parse([Buffer.from([0x41, IAC, IAC, 0x42])])).toEqual([{ type: 'data', data: Buffer.from([0x41, 0xff, 0x42]) }]);
  });

  it('recovers all 256 byte values whatever the split point, including between IAC and IAC', () => {
    const expected = Buffer.concat([allBytes, Buffer.from(allBytes).reverse(), Buffer.alloc(5, 0xff)]);
    const wire = escapeIac(expected);
    for (let a = 0; a <= wire.length; a++) {
      const events = parse([wire.subarray(0, a), wire.subarray(a)]);
      expect(events.every((e) => e.type === 'data')).toBe(true);
      expect(dataOf(events).equals(expected)).toBe(true);
    }
  });

  it('recovers a run of 0xFF split at every pair of points', () => {
    const plain = Buffer.from([1, 0xff, 0xff, 0xff, 2, 0xff]);
    const wire = escapeIac(plain);
    for (let a = 0; a <= wire.length; a++) {
      for (let b = a; b <= wire.length; b++) {
        const events = parse([wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)]);
        expect(dataOf(events)).toEqual(plain);
      }
    }
  });

  it('recovers 1 MB of random data with 0xFF runs fed in random chunks', () => {
    const plain = randomBytes(1024 * 1024);
    for (let i = 0; i < plain.length; i += 997) plain.fill(0xff, i, i + 1 + (i % 7));
    const events = parse(randomChunks(escapeIac(plain), 5000));
    expect(events.every((e) => e.type === 'data')).toBe(true);
    expect(Buffer.compare(dataOf(events), plain)).toBe(0);
  });

  it('decodes negotiation verbs and commands split byte by byte', () => {
    const wire = Buffer.from([IAC, C.DO, 0, 0x61, IAC, C.WONT, 1, IAC, C.BRK, IAC, C.NOP, 0x62]);
    const bytes = [...wire].map((b) => Buffer.from([b]));
    expect(parse(bytes)).toEqual([
      { type: 'negotiation', verb: 'DO', option: 0 },
      { type: 'data', data: Buffer.from('a') },
      { type: 'negotiation', verb: 'WONT', option: 1 },
      { type: 'command', command: C.BRK },
      { type: 'command', command: C.NOP },
      { type: 'data', data: Buffer.from('b') },
    ]);
  });

  it('decodes a subnegotiation with escaped IAC in its payload at every split point', () => {
    const payload = Buffer.from([1, 0xff, 0xff, 0, 0xff]);
    const wire = Buffer.concat([
      Buffer.from('x'),
      Buffer.from([IAC, C.SB, TelnetOption.COM_PORT_OPTION]),
      escapeIac(payload),
      Buffer.from([IAC, C.SE]),
      Buffer.from('y'),
    ]);
    for (let a = 0; a <= wire.length; a++) {
      expect(parse([wire.subarray(0, a), wire.subarray(a)])).toEqual([
        { type: 'data', data: Buffer.from('x') },
        { type: 'subnegotiation', option: TelnetOption.COM_PORT_OPTION, payload },
        { type: 'data', data: Buffer.from('y') },
      ]);
    }
  });

  it('reports an unknown command byte as a command and carries on', () => {
    expect(parse([Buffer.from([IAC, 17, 0x41])])).toEqual([
      { type: 'command', command: 17 },
      { type: 'data', data: Buffer.from('A') },
    ]);
  });

  it('holds a lone IAC at the end of a chunk until the next byte arrives', () => {
    const parser = new TelnetParser();
    expect(parser.feed(Buffer.from([0x41, IAC]))).toEqual([{ type: 'data', data: Buffer.from('A') }]);
    expect(parser.feed(Buffer.from([IAC]))).toEqual([{ type: 'data', data: Buffer.from([0xff]) }]);
  });

  it('drops a subnegotiation longer than the limit, reports it once, and resumes after IAC SE', () => {
    const parser = new TelnetParser({ maxSubnegotiation: 16 });
    const garbage = Buffer.alloc(10 * 1024 * 1024, 0x55);
    const events = parse([Buffer.from([IAC, C.SB, 99]), ...randomChunks(garbage, 65536), Buffer.from([IAC, C.SE, 0x42])], parser);
    expect(events).toEqual([
      { type: 'error', problem: 'subnegotiation-too-long', option: 99 },
      { type: 'data', data: Buffer.from('B') },
    ]);
  });

  it('keeps a subnegotiation exactly at the limit', () => {
    const payload = Buffer.alloc(16, 7);
    const parser = new TelnetParser({ maxSubnegotiation: 16 });
    expect(parse([Buffer.from([IAC, C.SB, 5]), payload, Buffer.from([IAC, C.SE])], parser)).toEqual([
      { type: 'subnegotiation', option: 5, payload },
    ]);
  });

  it('ends an unterminated subnegotiation at the next command and reads that command', () => {
    const wire = Buffer.from([IAC, C.SB, 44, 1, 2, IAC, C.WILL, 3, 0x43]);
    expect(parse([wire])).toEqual([
      { type: 'error', problem: 'subnegotiation-interrupted', option: 44 },
      { type: 'negotiation', verb: 'WILL', option: 3 },
      { type: 'data', data: Buffer.from('C') },
    ]);
  });

  it('reports IAC SE outside a subnegotiation', () => {
    expect(parse([Buffer.from([IAC, C.SE, 0x44])])).toEqual([
      { type: 'error', problem: 'stray-se' },
      { type: 'data', data: Buffer.from('D') },
    ]);
  });

  it('survives random garbage without throwing and keeps memory bounded by the limit', () => {
    const parser = new TelnetParser({ maxSubnegotiation: 64 });
    for (let i = 0; i < 200; i++) {
      for (const event of parser.feed(randomBytes(4096))) {
        if (event.type === 'subnegotiation') expect(event.payload.length).toBeLessThanOrEqual(64);
      }
    }
    // Whatever state the garbage left, a clean IAC SE ... sequence brings it back in sync.
    const tail = parse([Buffer.from([IAC, C.NOP, IAC, C.SE, IAC, C.NOP, 0x45])], parser);
    expect(tail[tail.length - 1]).toEqual({ type: 'data', data: Buffer.from('E') });
  });
});
