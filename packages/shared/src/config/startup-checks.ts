import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LifelineError, isLifelineError } from '../errors.js';
import { readKeyFile, type SshKeyPair } from '../ssh-keys.js';
import { ConfigError, type ConfigProblem } from './config-error.js';

/**
 * What a start needs from the disk, checked without changing anything: folders it will create or
 * write, key files it will read. Problems are collected, so `check` and a failing start report
 * all of them at once, one `file: key: problem` line each.
 */
export class StartupProblems {
  readonly problems: ConfigProblem[] = [];

  constructor(readonly file: string) {}

  add(key: string, message: string, code?: ConfigProblem['code']): void {
    this.problems.push({ file: this.file, key, message, ...(code ? { code } : {}) });
  }

  /** Throws one ConfigError with every problem, if there is any. */
  throwIfAny(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  /**
   * The folder `dir` (config key `key`) must exist and be writable, or be creatable: its nearest
   * existing ancestor is a folder this process may write. Nothing is created.
   */
  async writableFolder(key: string, dir: string): Promise<void> {
    const problem = await folderProblem(dir);
    if (problem) this.add(key, problem, 'STARTUP_CANNOT_CREATE');
  }

  /**
   * Reads the private key file of `key`: undefined when it is missing (and then its folder must
   * be writable, for the key generated on start), or a problem for an unreadable, insecure or
   * unparsable file.
   */
  async keyFile(key: string, path: string, comment: string): Promise<SshKeyPair | undefined> {
    try {
      const pair = await readKeyFile(path, comment);
      if (!pair) await this.writableFolder(key, dirname(path));
      return pair;
    } catch (err) {
      if (!isLifelineError(err, 'KEY_UNREADABLE') && !isLifelineError(err, 'KEY_INSECURE_MODE')) throw err;
      this.add(key, err.message);
      return undefined;
    }
  }
}

/** Why the folder cannot be created or written, worded for the operator; undefined when it can. */
export async function folderProblem(dir: string): Promise<string | undefined> {
  let path = dir;
  for (;;) {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && dirname(path) !== path) {
        path = dirname(path);
        continue;
      }
      if (code === 'EACCES') return `cannot create ${dir}: EACCES (permission denied on ${dirname(path)})`;
      return `cannot create ${dir}: ${code ?? (err as Error).message}`;
    }
    if (!info.isDirectory()) return path === dir ? `${dir} is not a folder` : `cannot create ${dir}: ${path} is not a folder`;
    try {
      await access(path, constants.W_OK | constants.X_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EACCES';
      return path === dir
        ? `cannot write ${dir}: ${code} (permission denied)`
        : `cannot create ${dir}: ${code} (permission denied on ${path})`;
    }
    return undefined;
  }
}

/**
 * Turns a failed mkdir or file creation at start into STARTUP_CANNOT_CREATE naming the config
 * file and key: `relay.yaml: recordingsDir: cannot create /var/lib/lifeline/recordings: EACCES`.
 */
export function cannotCreate(file: string, key: string, path: string, err: unknown): LifelineError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new LifelineError('STARTUP_CANNOT_CREATE', `${file}: ${key}: cannot create ${path}: ${code}`, { cause: err });
}
