import type { Clock, IpmiSolConsoleConfig, Logger } from '@lifeline/shared/core';
import { IPMI_PASSWORD_ENV, type IpmiSecret } from './ipmi-password.js';

/**
 * How long ipmitool waits for each BMC answer (1 s) and how often it asks again (2 times). Not
 * configurable: a BMC on the site LAN answers in milliseconds, and every caller bounds the whole
 * command with its own timeout.
 */
export const IPMITOOL_PATIENCE = { timeoutSec: 1, retries: 2 } as const;

/** Collaborators of everything that runs ipmitool (the SOL console, power control). */
export interface IpmiDeps {
  logger: Logger;
  clock?: Clock;
  /** Where LIFELINE_IPMI_PASSWORD is looked up, and the base of ipmitool's environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The ipmitool program (default `ipmitool` on PATH). */
  ipmitool?: string;
}

/** One ipmitool run, ready for spawn(): no password in `args`. */
export interface IpmitoolCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface IpmitoolOptions {
  ipmitool?: string;
  /** Base environment; password variables are removed from it (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** `-v`: ipmitool then says why a login failed (wrong password, unknown user), on stderr. */
  verbose?: boolean;
  /** Seconds ipmitool waits for each answer (`-N`) and how often it retries (`-R`); IPMITOOL_PATIENCE unless given. */
  timeoutSec?: number;
  retries?: number;
  /**
   * Runs ipmitool under `stdbuf -oL`: with stdout on a pipe, stdio would hold its own lines
   * (the session banner, the `~B` notice) until the next console output.
   */
  lineBuffered?: boolean;
}

const passwordVariables = [IPMI_PASSWORD_ENV, 'IPMI_PASSWORD', 'IPMITOOL_PASSWORD'];

/**
 * `ipmitool -I lanplus -C suite -H host -p port -U user -L privilege (-f file | -E) ... subcommand`.
 * `-C` is always given: without it ipmitool first asks for the cipher suites, which costs about
 * 10 s on BMCs (and simulators) that do not answer.
 */
export function ipmitoolCommand(
  config: IpmiSolConsoleConfig,
  secret: IpmiSecret,
  subcommand: string[],
  options: IpmitoolOptions = {},
): IpmitoolCommand {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  for (const name of passwordVariables) delete env[name];
  if (secret.kind === 'env') env['IPMI_PASSWORD'] = secret.value;
  const ipmitool = options.ipmitool ?? 'ipmitool';
  const args = [
    '-I',
    'lanplus',
    '-C',
    String(config.cipherSuite),
    '-H',
    config.host,
    '-p',
    String(config.port),
    '-U',
    config.user,
    '-L',
    config.privilege,
    '-N',
    String(options.timeoutSec ?? IPMITOOL_PATIENCE.timeoutSec),
    '-R',
    String(options.retries ?? IPMITOOL_PATIENCE.retries),
    ...(secret.kind === 'file' ? ['-f', secret.path] : ['-E']),
    ...(options.verbose ? ['-v'] : []),
    ...subcommand,
  ];
  return options.lineBuffered ? { file: 'stdbuf', args: ['-oL', ipmitool, ...args], env } : { file: ipmitool, args, env };
}

/** `host:port` as people read it, with brackets for IPv6. */
export function bmcAddress(config: Pick<IpmiSolConsoleConfig, 'host' | 'port'>): string {
  return `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
}
