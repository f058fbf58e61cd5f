import type { HashGate } from './hash-gate.js';
import { dummyPasswordHash, verifyPassword, type ParsedPasswordHash } from './password-hash.js';

/** Hashes `password` the way `stored` says and compares (password-hash.ts's verifyPassword). */
export type VerifyPassword = (password: string, stored: ParsedPasswordHash) => Promise<boolean>;

/**
 * Checks login passwords, every one through the hash gate, so scrypt work stays bounded per
 * address and in total whatever arrives. An unknown user (or one without a password) costs the
 * same hash as a known one and is always refused, so timing does not tell which users exist.
 */
export class PasswordChecker {
  constructor(
    private readonly gate: HashGate,
    private readonly verify: VerifyPassword = verifyPassword,
  ) {}

  /**
   * True when `password` matches `stored`; false for an undefined `stored`. Rejects with the
   * signal's reason if `closed` aborts before the hash got a slot (the hash then never runs).
   */
  check(address: string, password: string, stored: ParsedPasswordHash | undefined, closed?: AbortSignal): Promise<boolean> {
    return this.gate.run(
      address,
      async () => {
        const ok = await this.verify(password, stored ?? dummyPasswordHash());
        return stored !== undefined && ok;
      },
      closed,
    );
  }
}
