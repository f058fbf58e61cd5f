import { createHash } from 'node:crypto';
import { ENROL_TOKEN_PATTERN } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { hashEnrolmentToken, newEnrolmentToken, parseTokenTtl } from './enrolment-token.js';

describe('enrolment tokens', () => {
  it('are 128 random bits as 32 hex digits, stored only as their SHA-256', () => {
    const { token, tokenHash } = newEnrolmentToken();
    expect(token).toMatch(ENROL_TOKEN_PATTERN);
    expect(tokenHash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(tokenHash).not.toContain(token);
  });

  it('draw 16 bytes from the random source each time', () => {
    const asked: number[] = [];
    const t = newEnrolmentToken((n) => (asked.push(n), Buffer.alloc(n, 0xab)));
    expect(asked).toEqual([16]);
    expect(t.token).toBe('ab'.repeat(16));
    expect(newEnrolmentToken().token).not.toBe(newEnrolmentToken().token);
  });

  it('hash the same token to the same value and different tokens apart', () => {
    expect(hashEnrolmentToken('a'.repeat(32))).toBe(hashEnrolmentToken('a'.repeat(32)));
    expect(hashEnrolmentToken('a'.repeat(32))).not.toBe(hashEnrolmentToken('b'.repeat(32)));
  });
});

describe('token lifetimes', () => {
  it('read minutes, hours and days', () => {
    expect(parseTokenTtl('30m')).toBe(30 * 60_000);
    expect(parseTokenTtl('24h')).toBe(86_400_000);
    expect(parseTokenTtl('7d')).toBe(7 * 86_400_000);
  });

  it('refuse anything else', () => {
    for (const text of ['', '0h', '24', 'h', '1.5h', '-1d', '24H', '1w', '1234567d', ' 1h'])
      expect(parseTokenTtl(text), text).toBeUndefined();
  });
});
