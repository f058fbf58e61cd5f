import { createHash } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';
import { LifelineError } from './errors.js';

const { utils } = ssh2;

export interface SshKeyPair {
  /** Private key in OpenSSH format, as handed to ssh2. */
  privateKey: Buffer;
  /** One-line public key, `ssh-ed25519 AAAA... comment`, as in authorized_keys. */
  publicKeyLine: string;
  /** SHA256 fingerprint as OpenSSH and PuTTY print it: `SHA256:` + unpadded base64. */
  fingerprint: string;
  /** True when this call created the key file. */
  generated: boolean;
}

/** SHA256 fingerprint of a public key blob (the wire form, as in the base64 of a key line). */
export function fingerprintOfBlob(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/**
 * Parses one OpenSSH public key line (`type base64 [comment]`); throws on anything else.
 * Returns the parsed key, which ssh2 can verify signatures with.
 */
export function parsePublicKeyLine(line: string): ssh2.ParsedKey {
  const parsed = utils.parseKey(line.trim());
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) throw new Error('no key found');
  return key;
}

/** True when two public keys are the same key (type and blob), comments aside. */
export function samePublicKey(a: ssh2.ParsedKey, b: ssh2.ParsedKey): boolean {
  return a.type === b.type && a.getPublicSSH().equals(b.getPublicSSH());
}

/**
 * Loads an Ed25519 private key in OpenSSH format, or generates one if the file does not exist
 * (mode 0600, folder 0700). An existing file is used as it is, so operators can bring keys made
 * with `ssh-keygen -t ed25519`; one readable by group or others is refused, as OpenSSH does.
 */
export async function loadOrCreateKey(path: string, comment: string): Promise<SshKeyPair> {
  let text: Buffer | undefined;
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      throw new LifelineError(
        'KEY_INSECURE_MODE',
        `key file ${path} has mode ${(info.mode & 0o777).toString(8)}; it must not be readable by group or others (chmod 600 ${path})`,
      );
    }
    text = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (err instanceof LifelineError) throw err;
      throw new LifelineError('KEY_UNREADABLE', `cannot read key file ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  let generated = false;
  if (text === undefined) {
    const pair = generateParsableEd25519(comment);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx' so two processes racing on first start cannot overwrite each other's key.
    const file = await open(path, 'wx', 0o600);
    try {
      await file.writeFile(pair.private);
    } finally {
      await file.close();
    }
    text = Buffer.from(pair.private);
    generated = true;
  }
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) {
    throw new LifelineError('KEY_UNREADABLE', `key file ${path} is not a usable private key: ${parsed.message}`, { cause: parsed });
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.getPrivatePEM() === null) {
    throw new LifelineError('KEY_UNREADABLE', `key file ${path} holds no private key`);
  }
  const blob = key.getPublicSSH();
  return {
    privateKey: text,
    publicKeyLine: `${key.type} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`,
    fingerprint: fingerprintOfBlob(blob),
    generated,
  };
}

/**
 * ssh2 1.17 writes about 1 in 256 generated Ed25519 keys in a form its own parser then rejects
 * (a leading zero byte is dropped; mscdex/ssh2#1390). Such a key must never reach the disk, where
 * it would make every later start fail: generate again until ssh2 reads the key back.
 */
export function generateParsableEd25519(comment: string): { private: string; public: string } {
  for (let attempt = 0; attempt < 32; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    const parsed = utils.parseKey(pair.private);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key && !(key instanceof Error) && key.getPrivatePEM() !== null && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new LifelineError('KEY_UNREADABLE', 'could not generate a usable Ed25519 key');
}
