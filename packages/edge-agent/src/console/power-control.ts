import type { ConsoleConfig, PowerAction } from '@lifeline/shared/core';
import { ipmiPower, type IpmiPowerDeps } from './ipmi/ipmi-power.js';

/** Power control of the machine behind a console (its BMC). */
export interface PowerControl {
  /**
   * Runs one action and resolves with the BMC's answer text, e.g. "Chassis Power is on".
   * Rejects with LifelineError `POWER_FAILED` (message for people: BMC unreachable, wrong
   * password, action refused).
   */
  power(action: PowerAction): Promise<string>;
}

/**
 * The power control a (checked, defaulted, paths resolved) console config offers: IPMI consoles
 * through their BMC; undefined for every other kind.
 */
export function createPowerControl(config: ConsoleConfig, deps: IpmiPowerDeps): PowerControl | undefined {
  if (config.type !== 'ipmi-sol') return undefined;
  return { power: (action) => ipmiPower(config, action, deps) };
}
