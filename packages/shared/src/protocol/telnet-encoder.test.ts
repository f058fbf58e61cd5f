import { describe, expect, it } from 'vitest';
import { IAC, TelnetCommand as C } from './telnet-constants.js';
import { encodeCommand, encodeNegotiation, encodeSubnegotiation, escapeIac } from './telnet-encoder.js';

describe('telnet encoder', () => {
  it('returns data without 0xFF unchanged and uncopied', () => {
    const data = Buffer.from('show version\r');
    expect(escapeIac(data)).toBe(data);
  });

  it('doubles every 0xFF, including runs and one at either end', () => {
    expect(escapeIac(Buffer.from([0xff, 1, 0xff, 0xff, 2, 0xff]))).toEqual(
      Buffer.from([0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff, 2, 0xff, 0xff]),
    );
  });

  it('escapes all 256 byte values into 257 bytes with only 0xFF doubled', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const out = escapeIac(all);
    expect(out.length).toBe(257);
    expect(out.subarray(0, 255)).toEqual(all.subarray(0, 255));
    expect(out.subarray(255)).toEqual(Buffer.from([0xff, 0xff]));
  });

  it('encodes a negotiation and a command', () => {
    expect(encodeNegotiation('WILL', 44)).toEqual(Buffer.from([IAC, C.WILL, 44]));
    expect(encodeNegotiation('DONT', 1)).toEqual(Buffer.from([IAC, C.DONT, 1]));
    expect(encodeCommand(C.BRK)).toEqual(Buffer.from([IAC, C.BRK]));
  });

  it('frames a subnegotiation and escapes IAC in its payload', () => {
    expect(encodeSubnegotiation(44, Buffer.from([1, 0xff, 0, 0]))).toEqual(Buffer.from([IAC, C.SB, 44, 1, 0xff, 0xff, 0, 0, IAC, C.SE]));
  });
});
