import { createHash, randomBytes } from 'node:crypto';

/** A fresh enrolment token: the secret to hand out once, and the only thing the store keeps. */
export interface NewEnrolmentToken {
  /** 128 random bits as 32 lowercase hex digits (ENROL_TOKEN_PATTERN). */
  token: string;
  tokenHash: string;
}

/** Makes a token from 128 bits of the system's CSPRNG (injectable for tests). */
export function newEnrolmentToken(random: (bytes: number) => Buffer = randomBytes): NewEnrolmentToken {
  const token = random(16).toString('hex');
  return { token, tokenHash: hashEnrolmentToken(token) };
}

/**
 * SHA-256 of the token, hex. A fast hash is enough: the token is 128 random bits, not a password,
 * and the store looks it up by this value (so no comparison of secrets happens in our code).
 */
export function hashEnrolmentToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `24h`, `7d` in ms (the `enrolment.tokenTtl` and `--ttl` form); undefined for anything else. */
export function parseTokenTtl(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,5})([mhd])$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
