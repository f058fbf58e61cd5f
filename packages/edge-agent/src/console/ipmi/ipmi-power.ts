import { LifelineError, systemClock, type IpmiSolConsoleConfig, type PowerAction } from '@lifeline/shared/core';
import { loadIpmiSecret } from './ipmi-password.js';
import { bmcAddress, ipmitoolCommand, type IpmiDeps } from './ipmitool-command.js';
import { diagnoseIpmitool } from './ipmitool-diagnosis.js';
import { runIpmitool } from './run-ipmitool.js';

export interface IpmiPowerDeps extends IpmiDeps {
  /** How long one power command may take; POWER_COMMAND_TIMEOUT_MS unless a test shortens it. */
  timeoutMs?: number;
}

/**
 * How long one power command may take. Not configurable: some BMCs take many seconds to answer a
 * cycle, and a person waits for the answer in the escape menu either way.
 */
export const POWER_COMMAND_TIMEOUT_MS = 30_000;

/**
 * Runs `ipmitool ... chassis power <action>` on the console's BMC and resolves with the BMC's
 * answer, e.g. "Chassis Power is on" or "Chassis Power Control: Cycle". `off` is a hard power
 * off, `soft` asks the OS to shut down (ACPI), `reset` is a hard reset, `cycle` off then on.
 * Throws LifelineError `POWER_FAILED` with a message a person can act on.
 */
export async function ipmiPower(config: IpmiSolConsoleConfig, action: PowerAction, deps: IpmiPowerDeps): Promise<string> {
  const env = deps.env ?? process.env;
  const secret = await loadIpmiSecret(config, env, 'POWER_FAILED');
  const command = ipmitoolCommand(config, secret, ['chassis', 'power', action], { env, ipmitool: deps.ipmitool, verbose: true });
  const logger = deps.logger.child({ component: 'ipmi-power', bmc: bmcAddress(config) });
  const result = await runIpmitool(command, { timeoutMs: deps.timeoutMs ?? POWER_COMMAND_TIMEOUT_MS, clock: deps.clock ?? systemClock });
  const answer = lastLine(result.stdout);
  if (result.code === 0 && answer) {
    logger.debug({ action, answer }, 'power command answered');
    return answer;
  }
  // ipmitool's own wording when the BMC answers with a completion code, e.g. "... to Soft failed: Unspecified error".
  const refused = /(?:Set Chassis Power Control to \S+|Unable to get Chassis Power Status)[^:]*(?::\s*(.*))?/.exec(result.stderr);
  const failure = diagnoseIpmitool(result, config);
  const message =
    failure.kind === 'other' && refused
      ? `BMC ${bmcAddress(config)} refused power ${action}${refused[1] ? `: ${refused[1].trim()}` : ''}`
      : `power ${action}: ${failure.message}`;
  logger.warn({ action, code: result.code, stderr: result.stderr.slice(-500) }, message);
  throw new LifelineError('POWER_FAILED', message);
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ''
  );
}
