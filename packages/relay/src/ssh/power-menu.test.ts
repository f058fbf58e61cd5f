import { describe, expect, it } from 'vitest';
import { PowerMenu } from './power-menu.js';

const key = (c: string) => c.charCodeAt(0);

describe('PowerMenu', () => {
  it('runs status at once', () => {
    const menu = new PowerMenu('srv-1');
    expect(menu.open()[0]).toMatch(/^power of srv-1: s status/);
    expect(menu.key(key('s'))).toEqual({ lines: [], run: 'status' });
    expect(menu.active).toBe(false);
  });

  it('asks before a power cycle and runs it only on y', () => {
    const menu = new PowerMenu('srv-1');
    menu.open();
    expect(menu.key(key('c'))).toEqual({ lines: ['really power cycle srv-1? press y to confirm, any other key cancels'] });
    expect(menu.active).toBe(true);
    expect(menu.key(key('y'))).toEqual({ lines: [], run: 'cycle' });
  });

  it('cancels on any other key, at either step', () => {
    const menu = new PowerMenu('srv-1');
    menu.open();
    expect(menu.key(key('x'))).toEqual({ lines: ['power: cancelled'] });
    menu.open();
    menu.key(key('0'));
    expect(menu.key(key('\r'))).toEqual({ lines: ['power: cancelled'] });
    expect(menu.active).toBe(false);
  });
});
