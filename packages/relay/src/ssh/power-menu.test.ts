import { describe, expect, it } from 'vitest';
import { participantRights, type ConsoleRuleFacts } from '../session/console-rules.js';
import { PowerMenu } from './power-menu.js';

const key = (c: string) => c.charCodeAt(0);
const rights = (facts: Partial<ConsoleRuleFacts> = {}) =>
  participantRights({ role: 'supervisor', isWriter: true, writer: 'sue', power: true, ...facts });

describe('PowerMenu', () => {
  it('runs status at once', () => {
    const menu = new PowerMenu('srv-1');
    expect(menu.open(rights())[0]).toBe(
      'power of srv-1: s status, 1 on, 0 off (hard), o soft off (ACPI), c cycle, r reset; any other key cancels',
    );
    expect(menu.key(key('s'))).toEqual({ lines: [], run: 'status' });
    expect(menu.active).toBe(false);
  });

  it('names the device and what a power cycle does before asking, and runs it only on y', () => {
    const menu = new PowerMenu('rtr-tokyo-01');
    menu.open(rights());
    expect(menu.key(key('c'))).toEqual({
      lines: ['power cycle rtr-tokyo-01? this cuts power to the device. y to confirm, any other key cancels'],
    });
    expect(menu.active).toBe(true);
    expect(menu.key(key('y'))).toEqual({ lines: [], run: 'cycle' });
  });

  it('cancels on any other key, at either step', () => {
    const menu = new PowerMenu('srv-1');
    menu.open(rights());
    expect(menu.key(key('x'))).toEqual({ lines: ['power: cancelled'] });
    menu.open(rights());
    menu.key(key('0'));
    expect(menu.key(key('\r'))).toEqual({ lines: ['power: cancelled'] });
    expect(menu.active).toBe(false);
  });

  it('offers an engineer the status only, says why, and refuses a change key without asking', () => {
    const menu = new PowerMenu('srv-1');
    expect(menu.open(rights({ role: 'engineer' }))).toEqual([
      'power of srv-1: s status (on/off/cycle need the supervisor role); any other key cancels',
    ]);
    expect(menu.key(key('c'))).toEqual({ lines: ['power cycle: on/off/cycle need the supervisor role.'] });
    expect(menu.active).toBe(false);
  });

  it('does not open on a console without a BMC, and says so', () => {
    const menu = new PowerMenu('srv-1');
    expect(menu.open(rights({ power: false }))).toEqual(['power: not available, this console has no BMC']);
    expect(menu.active).toBe(false);
  });
});
