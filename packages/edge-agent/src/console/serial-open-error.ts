import { access, constants } from 'node:fs/promises';
import { LifelineError } from '@lifeline/shared/core';

/** Checks that the process may read and write `path`; rejects with the OS error (ENOENT, EACCES...). */
export type AccessCheck = (path: string) => Promise<void>;

export const readWriteAccess: AccessCheck = (path) => access(path, constants.R_OK | constants.W_OK);

/**
 * Turns a failed open into the error a person can act on. bindings-cpp reports open failures as
 * text only ("Error: No such file or directory, cannot open ..."), so rather than parse it we ask
 * the file system again: a missing path (or a /dev/serial/by-id link whose adapter is gone) means
 * the adapter is not plugged in; no permission means the agent user lacks the dialout group.
 */
export async function diagnoseOpenFailure(path: string, cause: unknown, check: AccessCheck = readWriteAccess): Promise<LifelineError> {
  try {
    await check(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return new LifelineError('CONSOLE_NOT_PRESENT', `serial port ${path} is not present`, { cause });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return new LifelineError('CONSOLE_OPEN_FAILED', `serial port ${path}: permission denied (is the agent user in the dialout group?)`, {
        cause,
      });
    }
  }
  return new LifelineError('CONSOLE_OPEN_FAILED', `serial port ${path}: cannot open (${messageOf(cause)})`, { cause });
}

export function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^Error:?\s*/, '');
}
