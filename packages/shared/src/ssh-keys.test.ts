import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLifelineError } from './errors.js';
import { loadOrCreateKey, parsePublicKeyLine, samePublicKey } from './ssh-keys.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeline-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadOrCreateKey', () => {
  it('generates a missing Ed25519 key with mode 0600 and reuses it afterwards', async () => {
    const file = join(dir, 'sub', 'key');
    const first = await loadOrCreateKey(file, 'test');
    expect(first.generated).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(first.publicKeyLine).toMatch(/^ssh-ed25519 AAAA\S+ test$/);
    const second = await loadOrCreateKey(file, 'test');
    expect(second.generated).toBe(false);
    expect(second.fingerprint).toBe(first.fingerprint);
  });

  it('uses a key made by ssh-keygen as it is, with the fingerprint ssh-keygen prints', async () => {
    const file = join(dir, 'own_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'operator', '-f', file]);
    const key = await loadOrCreateKey(file, 'ignored');
    expect(key.generated).toBe(false);
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`]).toString();
    expect(printed.split(' ')[1]).toBe(key.fingerprint);
  });

  it('refuses a key file that group or others can read', async () => {
    const file = join(dir, 'key');
    await loadOrCreateKey(file, 'test');
    await chmod(file, 0o644);
    await expect(loadOrCreateKey(file, 'test')).rejects.toSatisfy((err) => isLifelineError(err, 'KEY_INSECURE_MODE'));
  });

  it('names the file when it is not a key', async () => {
    const file = join(dir, 'garbage');
    await writeFile(file, 'not a key\n', { mode: 0o600 });
    await expect(loadOrCreateKey(file, 'test')).rejects.toThrow(/garbage.*not a usable private key/);
  });
});

describe('public key lines', () => {
  it('match the same key whatever the comment', async () => {
    const key = await loadOrCreateKey(join(dir, 'k'), 'one');
    const other = key.publicKeyLine.replace(/ one$/, ' two');
    expect(samePublicKey(parsePublicKeyLine(key.publicKeyLine), parsePublicKeyLine(other))).toBe(true);
  });

  it('throws on a line that is not a key', () => {
    expect(() => parsePublicKeyLine('ssh-ed25519 notbase64')).toThrow();
  });
});

describe('generateParsableEd25519', () => {
  it('only hands out keys that ssh2 can read back (ssh2 1.17 mangles about 1 in 256)', async () => {
    const { generateParsableEd25519 } = await import('./ssh-keys.js');
    const ssh2 = (await import('ssh2')).default;
    for (let i = 0; i < 1000; i++) {
      const pair = generateParsableEd25519('t');
      expect(ssh2.utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
    }
  });
});
