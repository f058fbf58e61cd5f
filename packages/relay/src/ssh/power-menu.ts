import { isDestructivePower, type PowerAction } from '@lifeline/shared';

const KEYS: Record<string, PowerAction> = { s: 'status', '1': 'on', '0': 'off', o: 'soft', c: 'cycle', r: 'reset' };

/**
 * The escape key's power menu: one key picks an action; an action that changes the machine's
 * state asks for `y` before it runs. Any other key cancels. Pure: the session shows the lines
 * and runs the action.
 */
export class PowerMenu {
  private state: { kind: 'closed' } | { kind: 'choosing' } | { kind: 'confirming'; action: PowerAction } = { kind: 'closed' };

  constructor(private readonly deviceName: string) {}

  get active(): boolean {
    return this.state.kind !== 'closed';
  }

  open(): string[] {
    this.state = { kind: 'choosing' };
    return [`power of ${this.deviceName}: s status, 1 on, 0 off (hard), o soft off (ACPI), c cycle, r reset; any other key cancels`];
  }

  /** The next key after the menu opened (or after a confirmation was asked). */
  key(byte: number): { lines: string[]; run?: PowerAction } {
    const char = String.fromCharCode(byte);
    const state = this.state;
    this.state = { kind: 'closed' };
    if (state.kind === 'choosing') {
      const action = KEYS[char.toLowerCase()];
      if (!action) return { lines: ['power: cancelled'] };
      if (!isDestructivePower(action)) return { lines: [], run: action };
      this.state = { kind: 'confirming', action };
      return { lines: [`really power ${action} ${this.deviceName}? press y to confirm, any other key cancels`] };
    }
    if (state.kind === 'confirming' && (char === 'y' || char === 'Y')) return { lines: [], run: state.action };
    return { lines: ['power: cancelled'] };
  }
}
