import { readFile, stat } from 'node:fs/promises';
import { LifelineError } from '@lifeline/shared';

/** Where the relay reads the database password when `store.passwordFile` is not set. */
export const PG_PASSWORD_ENV = 'LIFELINE_PG_PASSWORD';

/**
 * The PostgreSQL password: the first line of `passwordFile`, which group and others must not be
 * able to read (as with keys), or the env LIFELINE_PG_PASSWORD, or none (trust or peer auth).
 * Never from the command line. Throws LifelineError CONFIG_INVALID naming the file; the message
 * never holds the password.
 */
export async function readPostgresPassword(passwordFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (passwordFile === undefined) return env[PG_PASSWORD_ENV] || undefined;
  const fail = (message: string, cause?: unknown) => new LifelineError('CONFIG_INVALID', message, { cause });
  let text: string;
  try {
    const info = await stat(passwordFile);
    if (!info.isFile()) throw fail(`password file ${passwordFile} is not a regular file`);
    if ((info.mode & 0o077) !== 0) {
      throw fail(
        `password file ${passwordFile} has mode ${(info.mode & 0o777).toString(8)}; it must not be readable by group or others (chmod 600 ${passwordFile})`,
      );
    }
    text = await readFile(passwordFile, 'utf8');
  } catch (err) {
    if (err instanceof LifelineError) throw err;
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') throw fail(`password file ${passwordFile} does not exist`, err);
    if (errno === 'EACCES' || errno === 'EPERM') throw fail(`password file ${passwordFile} cannot be read by the relay's user`, err);
    throw fail(`password file ${passwordFile} cannot be read (${errno ?? (err as Error).message})`, err);
  }
  const first = /^[^\r\n]*/.exec(text)![0];
  if (first === '') throw fail(`password file ${passwordFile} is empty (its first line is the password)`);
  return first;
}
