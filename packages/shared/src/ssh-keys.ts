import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';
import { makeFolder } from './config/make-folder.js';
import { LifelineError } from './errors.js';
import { readSecretFile } from './secret-files.js';

const { utils } = ssh2;

export interface SshKeyPair {
  /** Private key in OpenSSH format, as handed to ssh2. */
  privateKey: Buffer;
  /** One-line public key, `ssh-ed25519 AAAA... comment`, as in authorized_keys. */
  publicKeyLine: string;
  /** SHA256 fingerprint as OpenSSH and PuTTY print it: `SHA256:` + unpadded base64. */
  fingerprint: string;
  /** True when the key was generated now (and is written, or still to be written, by the caller). */
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
  const key = parseOneKey(line.trim());
  if (key instanceof Error) throw key;
  if (!key) throw new Error('no key found');
  return key;
}

/** True when two public keys are the same key (type and blob), comments aside. */
export function samePublicKey(a: ssh2.ParsedKey, b: ssh2.ParsedKey): boolean {
  return a.type === b.type && a.getPublicSSH().equals(b.getPublicSSH());
}

/** A private key file larger than this is refused unread (an Ed25519 key is about 400 bytes). */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/**
 * Reads an Ed25519 private key in OpenSSH format; undefined when the file does not exist. Keys
 * made with `ssh-keygen -t ed25519` work. Refuses (KEY_INSECURE_MODE) a file group or others may
 * read or another user owns, as OpenSSH does, and (KEY_UNREADABLE) one that is not a regular file
 * (a FIFO or a path under /proc cannot hang a start), is too large, or holds no private key: the
 * rules and wording of every secret file (secret-files.ts).
 */
export async function readKeyFile(path: string, comment: string): Promise<SshKeyPair | undefined> {
  const text = await readSecretFile(path, {
    what: 'key file',
    maxBytes: MAX_KEY_FILE_BYTES,
    code: 'KEY_UNREADABLE',
    insecureCode: 'KEY_INSECURE_MODE',
    optional: true,
  });
  return text === undefined ? undefined : keyPairOf(text, comment, path, false);
}

/** A new Ed25519 key pair in memory (`generated: true`); nothing is written: see writeNewKey. */
export function generateKeyPair(comment: string): SshKeyPair {
  return keyPairOf(Buffer.from(generateParsableEd25519(comment).private), comment, '(generated)', true);
}

/**
 * Writes a key from generateKeyPair to `path` (mode 0600, folder 0700 if missing). Never
 * overwrites: 'wx', so two processes racing on first start cannot replace each other's key.
 * Throws the system error (EEXIST, EACCES) for the caller to word.
 */
export async function writeNewKey(path: string, key: SshKeyPair): Promise<void> {
  await makeFolder(dirname(path), 0o700);
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(key.privateKey);
  } finally {
    await file.close();
  }
}

/**
 * Loads a key with readKeyFile, or generates and writes one if the file does not exist. For
 * commands asked to create a key (`--generate`) and the demo; the daemons generate in memory
 * and write only after they started.
 */
export async function loadOrCreateKey(path: string, comment: string): Promise<SshKeyPair> {
  const existing = await readKeyFile(path, comment);
  if (existing) return existing;
  const key = generateKeyPair(comment);
  await writeNewKey(path, key);
  return key;
}

function keyPairOf(text: Buffer, comment: string, path: string, generated: boolean): SshKeyPair {
  const key = parseOneKey(text);
  if (key instanceof Error) {
    throw new LifelineError('KEY_UNREADABLE', `key file ${path} is not a usable private key: ${key.message}`, { cause: key });
  }
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
    const key = parseOneKey(pair.private);
    if (key && !(key instanceof Error) && key.getPrivatePEM() !== null && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new LifelineError('KEY_UNREADABLE', 'could not generate a usable Ed25519 key');
}

/**
 * ssh2's parseKey, which may answer with an array (a file of several keys), narrowed to its first
 * key: the only shape lifeline reads (one key per file or line).
 */
function parseOneKey(data: string | Buffer): ssh2.ParsedKey | Error | undefined {
  // @types/ssh2 leaves the array out; ssh2 returns one for a file of several keys.
  const parsed = utils.parseKey(data) as ssh2.ParsedKey | ssh2.ParsedKey[] | Error;
  return Array.isArray(parsed) ? parsed.at(0) : parsed;
}
