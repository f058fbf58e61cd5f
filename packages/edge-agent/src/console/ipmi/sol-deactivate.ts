import type { Clock, IpmiSolConsoleConfig, Logger } from '@lifeline/shared/core';
import type { IpmiSecret } from './ipmi-password.js';
import { ipmitoolCommand, type IpmitoolOptions } from './ipmitool-command.js';
import { consoleOpenError, diagnoseIpmitool, isLoginFailure } from './ipmitool-diagnosis.js';
import { runIpmitool } from './run-ipmitool.js';

/**
 * `ipmitool ... sol deactivate` before an activation: a SOL session left active (an agent killed
 * or cut off mid-session, a person's ipmitool closed uncleanly) makes the BMC refuse the next
 * one with "SOL payload already active on another session". Throws the console's open error
 * when the login itself fails (the activation would fail the same way); resolves otherwise.
 */
export async function deactivateStaleSol(
  config: IpmiSolConsoleConfig,
  secret: IpmiSecret,
  options: Pick<IpmitoolOptions, 'env' | 'ipmitool'> & { timeoutMs: number; clock: Clock; logger: Logger },
): Promise<void> {
  const command = ipmitoolCommand(config, secret, ['sol', 'deactivate'], { env: options.env, ipmitool: options.ipmitool, verbose: true });
  const result = await runIpmitool(command, { timeoutMs: options.timeoutMs, clock: options.clock });
  if (result.code === 0) {
    options.logger.info('cleared a SOL session that was still active on the BMC');
    return;
  }
  if (/already de-activated/.test(result.stderr)) return;
  const failure = diagnoseIpmitool(result, config);
  if (isLoginFailure(failure)) throw consoleOpenError(failure);
  // Some BMCs refuse the deactivation itself (privilege): the activation says what is wrong.
  options.logger.debug({ failure: failure.message }, 'sol deactivate failed; activating anyway');
}
