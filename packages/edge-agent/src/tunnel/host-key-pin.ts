import { LifelineError, fingerprintOfBlob } from '@lifeline/shared/core';

/**
 * The agent's one check of the relay's SSH host key against the fingerprint agent.yaml pins
 * (`relay.hostKey`), used by the tunnel's dialer, the health checker and `lifeline-agent
 * check-relay`. One per connection attempt: it remembers the key it was shown.
 */
export class HostKeyPin {
  private seenFingerprint: string | undefined;

  constructor(readonly pinned: string) {}

  /** ssh2's `hostVerifier`: records the key's SHA256 fingerprint and accepts only the pinned one. */
  readonly verify = (key: Buffer): boolean => {
    this.seenFingerprint = fingerprintOfBlob(key);
    return this.seenFingerprint === this.pinned;
  };

  /** The fingerprint of the key the relay presented; undefined before the key exchange. */
  get seen(): string | undefined {
    return this.seenFingerprint;
  }

  /** True once the relay presented a key other than the pinned one. */
  get mismatched(): boolean {
    return this.seenFingerprint !== undefined && this.seenFingerprint !== this.pinned;
  }

  /** TUNNEL_HOSTKEY_MISMATCH naming both keys, e.g. "relay r:443 presents SHA256:A..., agent.yaml pins SHA256:B...". */
  mismatchError(relayName: string, cause?: unknown): LifelineError {
    return new LifelineError(
      'TUNNEL_HOSTKEY_MISMATCH',
      `relay ${relayName} presents ${this.seenFingerprint ?? 'no host key'}, agent.yaml pins ${this.pinned} (relay.hostKey)`,
      cause === undefined ? undefined : { cause },
    );
  }
}
