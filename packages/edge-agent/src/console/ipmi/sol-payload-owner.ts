import type { Clock, IpmiSolConsoleConfig } from '@lifeline/shared/core';
import { ipmitoolCommand, type IpmitoolOptions } from './ipmitool-command.js';
import { diagnoseIpmitool, type IpmiFailure } from './ipmitool-diagnosis.js';
import type { IpmiSecret } from './ipmi-password.js';
import { runIpmitool } from './run-ipmitool.js';

/** Who holds SOL instance 1 on the BMC, as a second, short ipmitool session sees it. */
export type PayloadOwner =
  | { state: 'owned'; sessionId: number }
  | { state: 'free' }
  /** The BMC answered, but not this command: no way to watch the payload. */
  | { state: 'unsupported' }
  /** No answer, or the login failed (see `failure`). */
  | { state: 'failed'; failure: IpmiFailure };

/**
 * Asks the BMC "Get Payload Instance Info" (IPMI 2.0, NetFn App 0x4B) for SOL instance 1: the
 * answer starts with the id of the session that activated it, 0 when none has.
 *
 * Why the agent asks at all: ipmitool 1.8 ignores the BMC's "SOL deactivated" flag and only
 * gives up on a dead BMC after a long keepalive cycle, so a SOL session the BMC dropped (another
 * client took over, BMC reset) would otherwise look alive until someone types.
 */
export async function payloadOwner(
  config: IpmiSolConsoleConfig,
  secret: IpmiSecret,
  options: IpmitoolOptions & { timeoutMs: number; clock?: Clock; signal?: AbortSignal },
): Promise<PayloadOwner> {
  const command = ipmitoolCommand(config, secret, ['raw', '0x06', '0x4b', '0x01', '0x01'], { ...options, verbose: true });
  const result = await runIpmitool(command, { timeoutMs: options.timeoutMs, clock: options.clock, signal: options.signal });
  if (result.code === 0) {
    const bytes = result.stdout
      .trim()
      .split(/\s+/)
      .map((b) => Number.parseInt(b, 16));
    if (bytes.length < 4 || bytes.some(Number.isNaN)) return { state: 'unsupported' };
    const sessionId = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
    return sessionId === 0 ? { state: 'free' } : { state: 'owned', sessionId };
  }
  const failure = diagnoseIpmitool(result, config);
  // A completion code ("Unable to send RAW command ... rsp=0xc1"): the BMC is there but cannot say.
  if (failure.kind === 'other' && /Unable to send RAW command/.test(result.stderr)) return { state: 'unsupported' };
  return { state: 'failed', failure };
}
