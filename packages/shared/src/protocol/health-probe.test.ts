import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeProbe, encodeProbe, MAX_PROBE_LINE, newProbeNonce, readProbeLine } from './health-probe.js';

describe('health probe lines', () => {
  it('round-trips a fresh nonce', () => {
    const nonce = newProbeNonce();
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(newProbeNonce()).not.toBe(nonce);
    expect(decodeProbe(encodeProbe(nonce).toString().trimEnd())).toBe(nonce);
  });

  it('refuses lines that are not probes', () => {
    expect(decodeProbe('hello')).toBeUndefined();
    expect(decodeProbe('LIFELINE-PROBE short')).toBeUndefined();
    expect(decodeProbe(`LIFELINE-PROBE ${'g'.repeat(32)}`)).toBeUndefined();
  });

  it('reads one line split across chunks', async () => {
    const stream = new PassThrough();
    const line = readProbeLine(stream);
    stream.write('LIFELINE-PRO');
    stream.write('BE abc\nrest');
    expect(await line).toBe('LIFELINE-PROBE abc');
  });

  it('gives up on a stream that ends or floods without a newline', async () => {
    const ended = new PassThrough();
    const a = readProbeLine(ended);
    ended.end('no newline');
    expect(await a).toBeUndefined();
    const flood = new PassThrough();
    const b = readProbeLine(flood);
    flood.write('x'.repeat(MAX_PROBE_LINE + 1));
    expect(await b).toBeUndefined();
  });
});
