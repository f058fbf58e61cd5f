import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateParsableEd25519 } from '@lifeline/shared';
import { parsedHostKey } from './host-key.js';

const data = Buffer.from('exchange hash to sign');

function ssh2Key(pem: string | Buffer): ssh2.ParsedKey {
  return ssh2.utils.parseKey(pem) as ssh2.ParsedKey;
}

describe('parsedHostKey', () => {
  it('signs an Ed25519 exchange hash with exactly the bytes ssh2 itself makes', () => {
    const pair = generateParsableEd25519('relay');
    const key = parsedHostKey(Buffer.from(pair.private));
    const mine = key.sign(data);
    expect(Buffer.isBuffer(mine)).toBe(true);
    expect(mine.equals(ssh2Key(pair.private).sign(data))).toBe(true);
    expect(ssh2Key(pair.public).verify(data, mine)).toBe(true);
  });

  it('signs RSA with the hash it is asked for, and SHA-1 when none is named (as ssh2 does)', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' });
    const key = parsedHostKey(Buffer.from(pem));
    const publicKey = createPublicKey(privateKey);
    for (const algo of ['sha256', 'sha512']) {
      expect(verify(algo, data, publicKey, key.sign(data, algo))).toBe(true);
    }
    expect(verify('sha1', data, publicKey, key.sign(data))).toBe(true);
  });

  it('refuses a public key or garbage', () => {
    const pair = generateParsableEd25519('relay');
    expect(() => parsedHostKey(Buffer.from(pair.public))).toThrow(/private/);
    expect(() => parsedHostKey(Buffer.from('not a key'))).toThrow();
  });
});
