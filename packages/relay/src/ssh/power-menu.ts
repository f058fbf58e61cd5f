import { isDestructivePower, type PowerAction } from '@lifeline/shared/core';
import { powerVerdict, type ConsoleRights } from '../session/console-rules.js';

const KEYS: Record<string, PowerAction> = { s: 'status', '1': 'on', '0': 'off', o: 'soft', c: 'cycle', r: 'reset' };
const LABELS: Record<PowerAction, string> = {
  status: 's status',
  on: '1 on',
  off: '0 off (hard)',
  soft: 'o soft off (ACPI)',
  cycle: 'c cycle',
  reset: 'r reset',
};

/** What a change does, said before asking to confirm it. */
const CONSEQUENCE: Partial<Record<PowerAction, string>> = {
  off: 'this cuts power to the device.',
  cycle: 'this cuts power to the device.',
  soft: "this asks the device's operating system to shut down.",
  reset: 'this restarts the device at once, without shutting down.',
};

/**
 * The escape key's power menu: one key picks an action; an action that changes the machine's
 * state names the device and what it does, and runs only after `y`. Any other key cancels. It
 * offers only what the person's rights allow (the same verdicts the power handler enforces) and
 * says why for the rest. Pure: the session shows the lines and runs the action.
 */
export class PowerMenu {
  private state: { kind: 'closed' } | { kind: 'choosing'; rights: ConsoleRights } | { kind: 'confirming'; action: PowerAction } = {
    kind: 'closed',
  };

  constructor(private readonly deviceName: string) {}

  get active(): boolean {
    return this.state.kind !== 'closed';
  }

  /** Opens the menu for what `rights` allow now; a console without power control stays closed. */
  open(rights: ConsoleRights): string[] {
    if (!rights.powerStatus.allowed) return [`power: ${rights.powerStatus.why}`];
    this.state = { kind: 'choosing', rights };
    const offered = (Object.keys(LABELS) as PowerAction[]).filter((a) => powerVerdict(rights, a).allowed).map((a) => LABELS[a]);
    const rest = rights.powerChange.allowed ? '' : ` (${rights.powerChange.why.replace(/\.$/, '')})`;
    return [`power of ${this.deviceName}: ${offered.join(', ')}${rest}; any other key cancels`];
  }

  /** The next key after the menu opened (or after a confirmation was asked). */
  key(byte: number): { lines: string[]; run?: PowerAction } {
    const char = String.fromCharCode(byte);
    const state = this.state;
    this.state = { kind: 'closed' };
    if (state.kind === 'choosing') {
      const action = KEYS[char.toLowerCase()];
      if (!action) return { lines: ['power: cancelled'] };
      const verdict = powerVerdict(state.rights, action);
      if (!verdict.allowed) return { lines: [`power ${action}: ${verdict.why}`] };
      if (!isDestructivePower(action)) return { lines: [], run: action };
      this.state = { kind: 'confirming', action };
      return {
        lines: [`power ${action} ${this.deviceName}? ${CONSEQUENCE[action] ?? ''} y to confirm, any other key cancels`.replace('  ', ' ')],
      };
    }
    if (state.kind === 'confirming' && (char === 'y' || char === 'Y')) return { lines: [], run: state.action };
    return { lines: ['power: cancelled'] };
  }
}
