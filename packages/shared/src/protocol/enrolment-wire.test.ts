import { describe, expect, it } from 'vitest';
import { MAX_ENROL_LINE_BYTES, enrolLine, parseEnrolAnswer, parseEnrolRequest } from './enrolment-wire.js';

const token = '0123456789abcdef0123456789abcdef';

describe('enrolment request line', () => {
  it('reads a device and a token', () => {
    expect(parseEnrolRequest(JSON.stringify({ device: 'rtr-tokyo-01', token }))).toEqual({ device: 'rtr-tokyo-01', token });
  });

  it('reads a poll without a token', () => {
    expect(parseEnrolRequest('{"device":"rtr-tokyo-01"}')).toEqual({ device: 'rtr-tokyo-01', token: undefined });
  });

  it('refuses garbage, arrays and other JSON values', () => {
    for (const line of ['', 'hello', '{"device":', '[1,2]', 'null', '42', '"rtr"', '\x1b[2J']) {
      expect(parseEnrolRequest(line)).toHaveProperty('problem');
    }
  });

  it('refuses an over-long line before parsing it', () => {
    const line = JSON.stringify({ device: 'rtr', token, pad: 'x'.repeat(MAX_ENROL_LINE_BYTES) });
    expect(parseEnrolRequest(line)).toEqual({ problem: `line longer than ${MAX_ENROL_LINE_BYTES} bytes` });
  });

  it('refuses wrong JSON: bad device ids, malformed tokens, extra fields', () => {
    const bad = [
      { token },
      { device: '', token },
      { device: 'a:b', token },
      { device: 'x'.repeat(65), token },
      { device: 42, token },
      { device: 'rtr', token: 'ABCDEF0123456789ABCDEF0123456789' },
      { device: 'rtr', token: token.slice(1) },
      { device: 'rtr', token: 12 },
      { device: 'rtr', token, publicKey: 'ssh-ed25519 AAAA' },
    ];
    for (const value of bad) expect(parseEnrolRequest(JSON.stringify(value)), JSON.stringify(value)).toHaveProperty('problem');
  });
});

describe('enrolment answer line', () => {
  it('round-trips every answer through one line', () => {
    for (const answer of [
      { result: 'enrolled' },
      { result: 'pending' },
      { result: 'refused', reason: 'expired' },
      { result: 'refused', reason: 'other-device' },
      { result: 'refused', reason: 'revoked' },
    ] as const) {
      const line = enrolLine(answer);
      expect(line.endsWith('\n')).toBe(true);
      expect(parseEnrolAnswer(line.trimEnd())).toEqual(answer);
    }
  });

  it('reads a refusal with a reason it does not know as unknown', () => {
    expect(parseEnrolAnswer('{"result":"refused","reason":"\\u001b[2Jboom"}')).toEqual({ result: 'refused', reason: 'unknown' });
  });

  it('refuses anything that is not an answer', () => {
    for (const line of ['', 'SSH-2.0-x', '{"result":"ok"}', '[]', '{"reason":"used"}', `{"result":"pending","x":"${'y'.repeat(2000)}"}`]) {
      expect(parseEnrolAnswer(line)).toBeUndefined();
    }
  });
});
