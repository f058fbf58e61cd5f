import { LifelineError, readSecretFile } from '@lifeline/shared/core';

/** Where the relay reads the database password when `store.passwordFile` is not set. */
export const PG_PASSWORD_ENV = 'LIFELINE_PG_PASSWORD';

/**
 * The PostgreSQL password: the first line of `passwordFile`, a secret file (secret-files.ts: mode
 * 0600, owned by the relay's user or root, as with keys), or the env LIFELINE_PG_PASSWORD, or
 * none (trust or peer auth). Never from the command line. Throws LifelineError CONFIG_INVALID
 * naming the file; the message never holds the password.
 */
export async function readPostgresPassword(passwordFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (passwordFile === undefined) return env[PG_PASSWORD_ENV] || undefined;
  const text = await readSecretFile(passwordFile, { what: 'password file', maxBytes: 64 * 1024, code: 'CONFIG_INVALID', optional: false });
  const first = /^[^\r\n]*/.exec(text.toString('utf8'))![0];
  if (first === '') throw new LifelineError('CONFIG_INVALID', `password file ${passwordFile} is empty (its first line is the password)`);
  return first;
}
