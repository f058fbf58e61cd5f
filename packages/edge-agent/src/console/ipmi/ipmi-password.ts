import { LifelineError, readSecretFile, type ErrorCode, type IpmiSolConsoleConfig } from '@lifeline/shared/core';

/** Where the agent reads a BMC password when the console has no `passwordFile`. */
export const IPMI_PASSWORD_ENV = 'LIFELINE_IPMI_PASSWORD';

/** IPMI 2.0 passwords are at most 20 bytes; ipmitool silently cuts longer ones. */
const maxPasswordBytes = 20;

/**
 * How ipmitool gets the password, never on its command line: `-f FILE` (ipmitool reads the
 * first line) or `-E` with IPMI_PASSWORD in the child's environment only.
 */
export type IpmiSecret = { kind: 'file'; path: string } | { kind: 'env'; value: string };

/**
 * Checks the console's password source before ipmitool uses it, so that ipmitool never falls
 * back to prompting and a person reads what is wrong. The file is a secret file (secret-files.ts:
 * mode 0600, owned by the agent's user or root, as with keys). Throws LifelineError `code` (the caller's area: console or power).
 */
export async function loadIpmiSecret(config: IpmiSolConsoleConfig, env: NodeJS.ProcessEnv, code: ErrorCode): Promise<IpmiSecret> {
  const fail = (message: string, cause?: unknown) => new LifelineError(code, message, { cause });
  if (config.passwordFile === undefined) {
    const value = env[IPMI_PASSWORD_ENV];
    if (!value) throw fail(`no BMC password for ${config.host}: set passwordFile in the console config or the env ${IPMI_PASSWORD_ENV}`);
    if (Buffer.byteLength(value) > maxPasswordBytes)
      throw fail(`${IPMI_PASSWORD_ENV} is longer than the ${maxPasswordBytes} bytes IPMI allows`);
    return { kind: 'env', value };
  }
  const path = config.passwordFile;
  const text = (await readSecretFile(path, { what: 'password file', maxBytes: 64 * 1024, code, optional: false })).toString('utf8');
  // ipmitool takes the first line up to CR, LF or tab.
  const first = /^[^\r\n\t]*/.exec(text)![0];
  if (first.length === 0) throw fail(`password file ${path} is empty (its first line is the password)`);
  if (Buffer.byteLength(first) > maxPasswordBytes)
    throw fail(`the password in ${path} is longer than the ${maxPasswordBytes} bytes IPMI allows`);
  return { kind: 'file', path };
}
