import { describe, expect, it } from 'vitest';
import { isLifelineError, relayUserSchema } from '@lifeline/shared';
import { DEFAULT_SCRYPT_PARAMS, dummyVerifyPassword, hashPassword, parsePasswordHash, verifyPassword } from './password-hash.js';

const cheap = { N: 1024, r: 8, p: 1 };

describe('password hashes', () => {
  it('writes $scrypt$N=...,r=...,p=...$salt$hash with the default parameters', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^\$scrypt\$N=32768,r=8,p=3\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(parsePasswordHash(hash).params).toEqual(DEFAULT_SCRYPT_PARAMS);
  });

  it('makes hashes the relay config schema accepts', async () => {
    const user = { name: 'alice', password: await hashPassword('pw', cheap), devices: ['d'] };
    expect(relayUserSchema.safeParse(user).success).toBe(true);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse', cheap);
    await expect(verifyPassword('correct horse', hash)).resolves.toBe(true);
    await expect(verifyPassword('correct horsf', hash)).resolves.toBe(false);
    await expect(verifyPassword('', hash)).resolves.toBe(false);
  });

  it('salts every hash, so equal passwords give different hashes', async () => {
    const [a, b] = await Promise.all([hashPassword('same', cheap), hashPassword('same', cheap)]);
    expect(a).not.toBe(b);
    await expect(verifyPassword('same', b)).resolves.toBe(true);
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const hash = await hashPassword('caf\u00e9', cheap);
    await expect(verifyPassword('cafe\u0301', hash)).resolves.toBe(true);
  });

  it('verifies hashes made with other parameters', async () => {
    const hash = await hashPassword('pw', { N: 2048, r: 4, p: 2 });
    expect(hash.startsWith('$scrypt$N=2048,r=4,p=2$')).toBe(true);
    await expect(verifyPassword('pw', hash)).resolves.toBe(true);
  });

  it.each([
    ['a plain password', 'hunter2'],
    ['a bcrypt hash', '$2b$12$abcdefghijklmnopqrstuuVY0eBqk0n0P4Y2d2J8m3bS9k3vJkq6e'],
    ['missing parameters', '$scrypt$$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ['a missing hash part', '$scrypt$N=1024,r=8,p=1$c2FsdHNhbHRzYWx0'],
    ['N not a power of two', '$scrypt$N=1000,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ['N above 2^20', '$scrypt$N=2097152,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ['a short salt', '$scrypt$N=1024,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA'],
  ])('refuses %s as a stored hash with CONFIG_INVALID', async (_what, stored) => {
    expect(() => parsePasswordHash(stored)).toThrow(/password hash/);
    await expect(verifyPassword('pw', stored)).rejects.toSatisfy((err) => isLifelineError(err, 'CONFIG_INVALID'));
  });

  it('answers false for the dummy check, whatever the password', async () => {
    await expect(dummyVerifyPassword('anything')).resolves.toBe(false);
    await expect(dummyVerifyPassword('')).resolves.toBe(false);
  });
});
