import { LifelineError, type Logger, type PowerAction } from '@lifeline/shared/core';
import { enforce, type Verdict } from './console-rules.js';
import { personLogFields, type Person } from './person.js';

export interface HubPowerDeps {
  deviceId: string;
  logger: Logger;
  /** Notes a power change in the device's continuous console log. */
  note?(text: string): void;
  /** Marks every attached party's recording. */
  markAll(label: string): void;
  /** Power control through the device's agent (tunnel/power-request.ts); undefined: none. */
  power?(action: PowerAction): Promise<string>;
}

/**
 * A device hub's power control: runs an action the rules allowed, and marks every power action
 * (a person's or the admin CLI's) in the recordings, the console log and the audit log.
 */
export class HubPower {
  constructor(private readonly deps: HubPowerDeps) {}

  /** Whether the relay has a power path to this device at all. */
  get available(): boolean {
    return this.deps.power !== undefined;
  }

  /**
   * Runs `action` for `person` once `verdict` (console-rules.ts) allows it. Throws LifelineError
   * SESSION_NOT_PERMITTED or POWER_UNSUPPORTED (the verdict's, or no power path), or what the
   * agent's answer throws (POWER_FAILED, ROUTE_DEVICE_OFFLINE).
   */
  async run(person: Person, action: PowerAction, verdict: Verdict): Promise<string> {
    enforce(verdict);
    if (!this.deps.power) throw new LifelineError('POWER_UNSUPPORTED', `${this.deps.deviceId} has no power control.`);
    if (action !== 'status') this.deps.note?.(`power ${action} requested by ${person.user}`);
    try {
      const answer = await this.deps.power(action);
      this.record(person, action, answer);
      return answer;
    } catch (err) {
      this.record(person, action, `failed: ${(err as Error).message}`);
      throw err;
    }
  }

  /**
   * Marks a power action in every recording and the audit log. `by` is the person attached who
   * asked, or, for the admin CLI, the caller's name (e.g. `os:root (sudo by alice)`).
   */
  record(by: Person | string, action: PowerAction, result: string): void {
    const who = typeof by === 'string' ? { user: by } : personLogFields(by);
    if (action !== 'status') this.deps.markAll(`power ${action} by ${who.user}: ${result}`);
    this.deps.logger.info({ event: 'console.power', ...who, action, result }, `power ${action}`);
  }
}
