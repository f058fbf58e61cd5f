import { fingerprintOfBlob, generateParsableEd25519, parsePublicKeyLine } from '@lifeline/shared';
import { utils, type ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { PublicKey } from './public-key.js';

describe('PublicKey', () => {
  const pair = generateParsableEd25519('agent@site');
  const line = pair.public.trim();
  const blob = parsePublicKeyLine(line).getPublicSSH();

  it('is found by the blob a client offers, with the fingerprint ssh-keygen prints', () => {
    const key = new PublicKey(line);
    expect(key.is(blob)).toBe(true);
    expect(key.is(parsePublicKeyLine(generateParsableEd25519('other').public).getPublicSSH())).toBe(false);
    expect(key.fingerprint).toBe(fingerprintOfBlob(blob));
    expect(key.line).toBe(line);
  });

  it('makes the key object at first use and keeps it: it verifies a signature made with the private key', () => {
    const key = new PublicKey(line);
    const data = Buffer.from('session id and userauth request');
    const signature = parsePrivate(pair.private).sign(data);
    expect(key.key()).toBe(key.key());
    expect(key.key().verify(data, signature)).toBe(true);
    expect(key.key().verify(Buffer.from('something else'), signature)).toBe(false);
  });

  it('refuses a line that is not a public key when it is made, not at the first login', () => {
    expect(() => new PublicKey('ssh-ed25519 not-base64!')).toThrow();
    expect(() => new PublicKey('')).toThrow(/key/i);
  });
});

function parsePrivate(text: string): ParsedKey {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('not one private key');
  return parsed;
}
