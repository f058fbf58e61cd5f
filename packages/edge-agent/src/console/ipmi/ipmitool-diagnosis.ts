import { LifelineError, type IpmiSolConsoleConfig } from '@lifeline/shared/core';
import { bmcAddress } from './ipmitool-command.js';

/** Why an ipmitool run failed, as far as its output tells. */
export type IpmiFailureKind =
  | 'not-installed'
  | 'unreachable'
  | 'wrong-password'
  | 'unknown-user'
  | 'privilege'
  | 'cipher-suite'
  | 'no-session-slots'
  | 'sol-disabled'
  | 'sol-in-use'
  | 'sol-encryption'
  | 'other';

export interface IpmiFailure {
  kind: IpmiFailureKind;
  /** A sentence a person can act on; names the BMC and, where there is one, the fix. */
  message: string;
}

/** What went wrong in a run: its stderr, and whether it could start or was cut off. */
export interface IpmitoolOutcome {
  stderr: string;
  timedOut?: boolean;
  spawnError?: NodeJS.ErrnoException;
}

type Target = Pick<IpmiSolConsoleConfig, 'host' | 'port' | 'user' | 'cipherSuite' | 'privilege'>;

/**
 * Reads ipmitool 1.8's stderr (run with `-v` for the login details) and says what is wrong.
 * ipmitool gives only text; these are its own fixed messages, matched on the stable part.
 */
export function diagnoseIpmitool(outcome: IpmitoolOutcome, target: Target): IpmiFailure {
  const bmc = `BMC ${bmcAddress(target)}`;
  const text = meaningful(outcome.stderr);
  const has = (pattern: RegExp) => pattern.test(text);
  if (outcome.spawnError?.code === 'ENOENT') {
    const program = outcome.spawnError.path ?? 'ipmitool';
    if (program === 'stdbuf') return { kind: 'not-installed', message: 'stdbuf (GNU coreutils) is missing on the agent' };
    return { kind: 'not-installed', message: `${program} is not installed on the agent (apt-get install ipmitool)` };
  }
  if (has(/failed to run command .ipmitool.|ipmitool: (command )?not found/)) {
    return { kind: 'not-installed', message: 'ipmitool is not installed on the agent (apt-get install ipmitool)' };
  }
  if (has(/Address lookup for .* failed/)) return { kind: 'unreachable', message: `${bmc}: host name ${target.host} not found` };
  if (has(/RAKP 2 HMAC is invalid|RAKP 4 message has invalid integrity check value|invalid integrity check value/)) {
    return {
      kind: 'wrong-password',
      message: `${bmc} refused the login: wrong password for user "${target.user}" (check passwordFile or LIFELINE_IPMI_PASSWORD)`,
    };
  }
  if (has(/unauthorized name|invalid name length/)) {
    return {
      kind: 'unknown-user',
      message: `${bmc} refused the login: no enabled user "${target.user}" on the BMC (ipmitool ... user list 1)`,
    };
  }
  if (has(/unauthorized role|invalid role|insufficient resources for role|Insufficient privilege level/i)) {
    return {
      kind: 'privilege',
      message: `${bmc}: user "${target.user}" may not work at privilege ${target.privilege}; set privilege to the user's level or raise the user's privilege limit on the BMC (ipmitool ... channel setaccess 1 <userid> privilege=4)`,
    };
  }
  if (
    has(
      /Unsupported cipher suite|invalid authentication algorithm|invalid integrity algorithm|invalid confidentiality algorithm|no matching (cipher suite|authentication|integrity)/i,
    )
  ) {
    return {
      kind: 'cipher-suite',
      message: `${bmc} refused cipher suite ${target.cipherSuite}; set cipherSuite to one the BMC offers (3 on most, 17 on newer BMCs; "ipmitool ... lan print 1" lists them)`,
    };
  }
  if (has(/insufficient resources for session/))
    return { kind: 'no-session-slots', message: `${bmc} has no free session slot; close other IPMI sessions or wait for them to time out` };
  if (has(/SOL payload (type )?disabled/)) {
    return {
      kind: 'sol-disabled',
      message: `${bmc}: Serial-over-LAN is disabled for user "${target.user}"; enable it on the BMC with "ipmitool ... sol set enabled true 1" and "ipmitool ... sol payload enable 1 <userid>" (channel 1 on most BMCs; userid from "user list 1")`,
    };
  }
  if (has(/already active on another session|activation limit reached/)) {
    return {
      kind: 'sol-in-use',
      message: `${bmc}: the SOL console is in use by another session that could not be cleared (a BMC web console?)`,
    };
  }
  if (has(/cannot activate SOL payload (with|without) encryption/)) {
    return {
      kind: 'sol-encryption',
      message: `${bmc} refuses SOL with this cipher suite's encryption; try cipherSuite 3 or 17, or change "sol set force-encryption" on the BMC`,
    };
  }
  if (outcome.timedOut) return { kind: 'unreachable', message: `${bmc} is not answering (no reply in time)` };
  if (
    has(
      /Unable to establish IPMI v2 \/ RMCP\+ session|Get Auth Capabilities error|no response from RAKP|Could not open socket|No response/i,
    )
  ) {
    return { kind: 'unreachable', message: `${bmc} is not answering (is it powered, on this network, with IPMI over LAN enabled?)` };
  }
  return { kind: 'other', message: `${bmc}: ipmitool failed${lastLine(text) ? ` (${lastLine(text)})` : ''}` };
}

/** The error ConsolePort.open() throws for a failure: NOT_PRESENT when the BMC is not there, OPEN_FAILED otherwise. */
export function consoleOpenError(failure: IpmiFailure, cause?: unknown): LifelineError {
  return new LifelineError(failure.kind === 'unreachable' ? 'CONSOLE_NOT_PRESENT' : 'CONSOLE_OPEN_FAILED', failure.message, { cause });
}

/** Failures of the login itself: a `sol deactivate` that ends so would fail `sol activate` the same way. */
export function isLoginFailure(failure: IpmiFailure): boolean {
  return ['not-installed', 'unreachable', 'wrong-password', 'unknown-user', 'cipher-suite', 'no-session-slots'].includes(failure.kind);
}

/**
 * ipmitool's stderr without its chatter: `-v` probes for vendor extensions after every login and
 * reports their refusal ("Invalid completion code received: Insufficient privilege level") even
 * when the command then works, and it complains that stdin is not a terminal.
 */
function meaningful(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^tcgetattr|^Loading IANA|^Running Get VSO|^Discovered IPMB|^Invalid completion code received|^Get HPM\.x/.test(l))
    .join('\n');
}

function lastLine(text: string): string {
  return (text.split('\n').at(-1) ?? '').slice(0, 200);
}
