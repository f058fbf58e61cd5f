import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { LifelineError } from '@lifeline/shared/core';

/**
 * Password hashes in the config: `$scrypt$N=32768,r=8,p=3$<salt base64>$<hash base64>`.
 * The parameters travel with each hash, so they can be raised later without breaking old ones.
 */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/** OWASP's 32 MiB scrypt setting (N=2^15, r=8, p=3): equal in strength to N=2^17, p=1 with a quarter of the memory. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = { N: 2 ** 15, r: 8, p: 3 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const FORMAT = '$scrypt$N=<n>,r=<r>,p=<p>$<salt base64>$<hash base64>';
const b64 = '[A-Za-z0-9+/]+={0,2}';
const HASH_RE = new RegExp(`^\\$scrypt\\$N=(\\d+),r=(\\d+),p=(\\d+)\\$(${b64})\\$(${b64})$`);

/** A stored hash taken apart. */
export interface ParsedPasswordHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

/**
 * Takes a stored hash apart. Throws LifelineError CONFIG_INVALID naming the expected format when
 * it is malformed or its parameters are out of range (a hostile config must not make each login
 * cost gigabytes).
 */
export function parsePasswordHash(stored: string): ParsedPasswordHash {
  const m = HASH_RE.exec(stored);
  if (!m)
    throw new LifelineError(
      'CONFIG_INVALID',
      `malformed password hash: expected ${FORMAT} (make one with \`lifeline-relay hash-password\`)`,
    );
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const powerOfTwo = params.N >= 2 && (params.N & (params.N - 1)) === 0;
  if (!powerOfTwo || params.N > 2 ** 20 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) {
    throw new LifelineError(
      'CONFIG_INVALID',
      `password hash parameters out of range: N must be a power of two up to 2^20, r 1..32, p 1..16`,
    );
  }
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) {
    throw new LifelineError('CONFIG_INVALID', 'malformed password hash: salt or hash too short');
  }
  return { params, salt, hash };
}

function derive(password: string, salt: Buffer, keylen: number, { N, r, p }: ScryptParams): Promise<Buffer> {
  // scrypt needs about 128*r*(N+p+2) bytes; Node's default cap (32 MiB) is just short of N=2^15.
  const options: ScryptOptions = { N, r, p, maxmem: 128 * r * (N + p + 2) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function encode({ params, salt, hash }: ParsedPasswordHash): string {
  const b = (buf: Buffer) => buf.toString('base64').replace(/=+$/, '');
  return `$scrypt$N=${params.N},r=${params.r},p=${params.p}$${b(salt)}$${b(hash)}`;
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, HASH_BYTES, params);
  return encode({ params, salt, hash });
}

/**
 * True when `password` matches `stored`. Compares with `timingSafeEqual`.
 * Throws LifelineError CONFIG_INVALID when `stored` is malformed (see parsePasswordHash).
 */
export async function verifyPassword(password: string, stored: string | ParsedPasswordHash): Promise<boolean> {
  const parsed = typeof stored === 'string' ? parsePasswordHash(stored) : stored;
  const candidate = await derive(password, parsed.salt, parsed.hash.length, parsed.params);
  return timingSafeEqual(candidate, parsed.hash);
}

let dummy: ParsedPasswordHash | undefined;

/** A random hash with the default parameters: checking against it costs what a real check costs. */
export function dummyPasswordHash(): ParsedPasswordHash {
  dummy ??= { params: DEFAULT_SCRYPT_PARAMS, salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) };
  return dummy;
}

/**
 * Costs what verifying against a default-parameter hash costs, and is always false. Used for
 * unknown users and users without a password, so response time does not tell which users exist.
 */
export async function dummyVerifyPassword(password: string): Promise<false> {
  await verifyPassword(password, dummyPasswordHash());
  return false;
}
