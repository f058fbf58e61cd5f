import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import ssh2 from 'ssh2';

/** ssh2's default signature hash per key type (for RSA the negotiated one is passed in). */
const DEFAULT_HASH: Record<string, string | null> = {
  'ssh-ed25519': null,
  'ssh-rsa': 'sha1',
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
};

/**
 * The relay's host key, parsed once, for ssh2.Server's `hostKeys`. ssh2 keeps the key as PEM text
 * and hands that to `crypto.sign` on every handshake, which parses it again each time (for
 * Ed25519 that is more than half of the signing cost: 63 us against 25 us with a KeyObject);
 * this key signs with a KeyObject made once. Signatures are the same bytes ssh2 would make.
 * Throws on a file that holds no private key (the caller names the file).
 */
export function parsedHostKey(pem: Buffer): ssh2.ParsedKey {
  const parsed = ssh2.utils.parseKey(pem) as ssh2.ParsedKey | ssh2.ParsedKey[] | Error;
  const key = Array.isArray(parsed) ? parsed.at(0) : parsed;
  if (!key || key instanceof Error) throw key ?? new Error('no key found');
  const privatePem = key.getPrivatePEM();
  if (privatePem === null) throw new Error('not a private key');
  const keyObject: KeyObject = createPrivateKey(privatePem);
  const defaultHash = DEFAULT_HASH[key.type] ?? null;
  // ssh2's contract for sign: the signature, or the Error (returned, not thrown).
  const signOnce = (data: Buffer, algo?: string): Buffer | Error => {
    try {
      return sign(algo || defaultHash, data, keyObject);
    } catch (err) {
      return err as Error;
    }
  };
  Object.defineProperty(key, 'sign', { value: signOnce });
  return key;
}
