import { describe, expect, it } from 'vitest';
import { FakeClock } from '@lifeline/shared/testing';
import { capturingLogger } from './led-driver.contract.js';
import type { LedDriver } from './led-driver.js';
import { LedPatternPlayer } from './led-pattern-player.js';
import { LedStatusIndicator } from './led-status-indicator.js';
import type { IndicatorState } from './status-indicator.js';

function setup() {
  const clock = new FakeClock();
  const writes: Array<[number, boolean]> = [];
  let closed = false;
  const driver: LedDriver = {
    description: 'recording',
    set: (on) => void writes.push([clock.now(), on]),
    close: async () => void (closed = true),
  };
  const { logger, lines } = capturingLogger();
  const notified: Array<[IndicatorState, string | undefined]> = [];
  let hookClosed = false;
  const hook = {
    notify: (state: IndicatorState, reason?: string) => void notified.push([state, reason]),
    close: async () => void (hookClosed = true),
  };
  const indicator = new LedStatusIndicator({ player: new LedPatternPlayer(driver, { logger, clock }), hook, logger });
  return { clock, writes, lines, notified, indicator, closed: () => closed, hookClosed: () => hookClosed };
}

describe('LedStatusIndicator', () => {
  it('starts searching, with the LED blinking and the hook told', () => {
    const { indicator, writes, notified, lines } = setup();
    expect(indicator.current).toBe('searching');
    expect(writes).toEqual([[0, true]]);
    expect(notified).toEqual([['searching', 'agent started']]);
    expect(lines.find((l) => l.event === 'status.change')).toMatchObject({ from: 'off', to: 'searching', component: 'status' });
  });

  it('logs each change as {from, to} and tells the hook', () => {
    const { indicator, notified, lines } = setup();
    indicator.setState('healthy', 'health check passed');
    indicator.setState('fault', 'relay host key mismatch');
    expect(notified.slice(1)).toEqual([
      ['healthy', 'health check passed'],
      ['fault', 'relay host key mismatch'],
    ]);
    expect(lines.filter((l) => l.event === 'status.change').map((l) => [l.from, l.to, l.level])).toEqual([
      ['off', 'searching', 30],
      ['searching', 'healthy', 30],
      ['healthy', 'fault', 30],
    ]);
  });

  it('does nothing for the state already shown, even with another reason', async () => {
    const { indicator, clock, writes, notified } = setup();
    await clock.advance(1_500);
    indicator.setState('searching', 'tunnel up, waiting for a health check');
    indicator.setState('healthy', 'check passed');
    indicator.setState('healthy', 'check passed after 40 ms');
    expect(notified).toHaveLength(2);
    expect(writes).toEqual([
      [0, true],
      [1_000, false],
      [1_500, true],
    ]);
  });

  it('tells the hook when a fault changes to another fault', () => {
    const { indicator, notified } = setup();
    indicator.setState('fault', 'serial port missing');
    indicator.setState('fault', 'serial port missing');
    indicator.setState('fault', 'agent key not enrolled');
    expect(notified.slice(1)).toEqual([
      ['fault', 'serial port missing'],
      ['fault', 'agent key not enrolled'],
    ]);
  });

  it('passes traffic to the LED as a flicker while healthy', async () => {
    const { indicator, clock, writes } = setup();
    indicator.setState('healthy');
    await clock.advance(300);
    indicator.traffic();
    await clock.advance(100);
    expect(writes.slice(-2)).toEqual([
      [300, false],
      [350, true],
    ]);
  });

  it('puts the LED out, closes driver and hook on close, and ignores what comes after', async () => {
    const { indicator, clock, writes, notified, closed, hookClosed } = setup();
    await indicator.close();
    indicator.setState('fault', 'too late');
    indicator.traffic();
    await clock.advance(5_000);
    await indicator.close();
    expect(writes).toEqual([
      [0, true],
      [0, false],
    ]);
    expect(notified).toHaveLength(1);
    expect(closed()).toBe(true);
    expect(hookClosed()).toBe(true);
  });
});
