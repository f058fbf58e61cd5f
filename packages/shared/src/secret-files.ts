import { constants, type Stats } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readBoundedFile } from './config/bounded-read.js';
import { LifelineError, type ErrorCode } from './errors.js';

/** How readSecretFile names and refuses a file. */
export interface SecretFileRules {
  /** What the file is, first in every message: `key file`, `password file`. */
  what: string;
  /** A larger file is refused unread. */
  maxBytes: number;
  /** The code of every refusal (missing, unreadable, not a regular file, too large). */
  code: ErrorCode;
  /** The code of a file group or others may read, or that another user owns; `code` when absent. */
  insecureCode?: ErrorCode;
  /** True: a file that does not exist is undefined (the caller makes it); false: a refusal. */
  optional: boolean;
}

/**
 * Reads a file that holds a secret (a private key, a password) the way OpenSSH treats a private
 * key: it must be a regular file (never a FIFO, device or /proc file, so it cannot hang a start),
 * not readable or writable by group or others (mode 0600 or 0400), and owned by the user this
 * process runs as, or by root. It is checked on the open file (fstat), not on a second lookup.
 *
 * Throws LifelineError (`rules.code`, or `rules.insecureCode` for mode and owner) with one of these
 * messages, which callers prefix with `file: key:` for the operator:
 * `WHAT PATH does not exist`, `WHAT PATH has mode 644; it must not be readable by group or others
 * (chmod 600 PATH)`, `WHAT PATH is owned by uid N; it must be owned by the user this program runs
 * as (uid M) or by root`, `WHAT PATH cannot be read by the user this program runs as (permission
 * denied)`, `cannot read WHAT PATH: PROBLEM`. The contents are never in a message.
 */
export async function readSecretFile(path: string, rules: SecretFileRules & { optional: true }): Promise<Buffer | undefined>;
export async function readSecretFile(path: string, rules: SecretFileRules & { optional: false }): Promise<Buffer>;
export async function readSecretFile(path: string, rules: SecretFileRules): Promise<Buffer | undefined> {
  const { what, code } = rules;
  const insecure = rules.insecureCode ?? code;
  try {
    return await readBoundedFile(path, rules.maxBytes, (info) => checkPrivate(info, path, what, insecure));
  } catch (err) {
    if (err instanceof LifelineError) throw err;
    const errno = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a folder on the way is a file; as missing, then making it will say why it cannot.
    if (errno === 'ENOENT' || errno === 'ENOTDIR') {
      if (rules.optional) return undefined;
      throw new LifelineError(code, `${what} ${path} does not exist`, { cause: err });
    }
    if (errno === 'EACCES' || errno === 'EPERM')
      throw new LifelineError(code, `${what} ${path} cannot be read by the user this program runs as (permission denied)`, { cause: err });
    throw new LifelineError(code, `cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function checkPrivate(info: Stats, path: string, what: string, code: ErrorCode): void {
  if ((info.mode & 0o077) !== 0) {
    throw new LifelineError(
      code,
      `${what} ${path} has mode ${(info.mode & 0o777).toString(8)}; it must not be readable by group or others (chmod 600 ${path})`,
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid && info.uid !== 0) {
    throw new LifelineError(
      code,
      `${what} ${path} is owned by uid ${info.uid}; it must be owned by the user this program runs as (uid ${uid}) or by root`,
    );
  }
}

/**
 * Writes `data` to `path` so that it is never readable by others and never half-written: a
 * temporary file in the same folder, created with mode 0600 (a stale one from a crash is
 * removed first, never reused with its old mode), written and synced, then renamed over `path`,
 * and the folder synced so the rename survives a power cut. A power cut leaves the old file or
 * the new one. On failure the temporary file is removed and the system error is thrown (EACCES,
 * ENOSPC) for the caller to word; `path` is then as it was.
 */
export async function writePrivateFile(path: string, data: string | Buffer): Promise<void> {
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${process.pid}.tmp`);
  await unlink(temp).catch(() => undefined);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncFolder(folder);
}

/** fsync on the folder makes a rename in it durable; a file system that cannot is no error. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY | constants.O_DIRECTORY).catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems (and some containers) refuse fsync on a folder: the data file is synced.
  } finally {
    await handle.close();
  }
}
