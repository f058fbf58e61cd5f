import { fingerprintOfBlob, parsePublicKeyLine } from '@lifeline/shared/core';
import type { ParsedKey } from 'ssh2';

/**
 * A public key line of the inventory (an agent's key, a person's authorized key): checked when
 * the snapshot is built, then kept as text and its blob. The ssh2 key object that verifies a
 * signature (about 1.7 kB of RSS each) is made at the key's first login and kept from then on, so
 * an idle relay with 10,000 agent keys holds 10,000 lines, not 10,000 key objects (issue 11).
 */
export class PublicKey {
  /** The public blob (the wire form a client offers), base64: what a login looks a key up by. */
  readonly id: string;
  private parsed: ParsedKey | undefined;
  private sha256: string | undefined;

  /** Throws what parsePublicKeyLine throws for a line that is not a usable key. */
  constructor(readonly line: string) {
    this.id = parsePublicKeyLine(line).getPublicSSH().toString('base64');
  }

  /** Whether a client offers this key (`blob`: the public key as it came on the wire). */
  is(blob: Buffer): boolean {
    return this.id === blob.toString('base64');
  }

  /** `SHA256:...`, as `ssh-keygen -l` prints it. */
  get fingerprint(): string {
    return (this.sha256 ??= fingerprintOfBlob(Buffer.from(this.id, 'base64')));
  }

  /** The key object a signature is checked with, made at first use. */
  key(): ParsedKey {
    return (this.parsed ??= parsePublicKeyLine(this.line));
  }
}
