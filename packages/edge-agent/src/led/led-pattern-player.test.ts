import { describe, expect, it } from 'vitest';
import { silentLogger } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { capturingLogger } from './led-driver.contract.js';
import { RecordingLedDriver } from '../testing/recording-led-driver.js';
import { LedPatternPlayer } from './led-pattern-player.js';
import { INDICATOR_STATES, STATUS_STATES } from './status-states.js';

function setup() {
  const clock = new FakeClock();
  const driver = new RecordingLedDriver(clock);
  const player = new LedPatternPlayer(driver, { logger: silentLogger(), clock });
  return { clock, driver, player };
}

/** Moves the clock to `t` (absolute). */
async function at(clock: FakeClock, t: number): Promise<void> {
  await clock.advance(t - clock.now());
}

describe('LedPatternPlayer', () => {
  it('shows start, tunnel up, check passed, traffic, a frozen link and recovery as the card describes', async () => {
    const { clock, driver, player } = setup();
    player.play('searching'); // agent started: slow blink
    await at(clock, 2_500);
    player.play('searching'); // tunnel up, no health check yet: still searching, blink not restarted
    await at(clock, 3_600);
    player.play('healthy'); // check passed: solid
    await at(clock, 4_000);
    for (let i = 0; i < 50; i++) player.traffic(); // a burst of console bytes: one flicker
    await at(clock, 4_100);
    player.traffic(); // too soon after the last flicker
    await at(clock, 4_200);
    player.traffic();
    await at(clock, 5_200);
    player.play('searching'); // link frozen, health check failed: slow blink from "on"
    await at(clock, 6_500);
    player.traffic(); // no flicker while searching
    player.play('healthy'); // recovered
    await at(clock, 8_000);
    await player.close();
    expect(driver.writes).toEqual([
      [0, true],
      [1_000, false],
      [2_000, true],
      [3_000, false],
      [3_600, true],
      [4_000, false],
      [4_050, true],
      [4_200, false],
      [4_250, true],
      [6_200, false],
      [6_500, true],
      [8_000, false],
    ]);
    expect(driver.closed).toBe(true);
  });

  it('flickers at most once per 200 ms however much traffic there is', async () => {
    const { clock, driver, player } = setup();
    player.play('healthy');
    for (let t = 0; t < 1_000; t++) {
      player.traffic();
      player.traffic();
      await clock.advance(1);
    }
    const offs = driver.writes.filter(([, on]) => !on).map(([t]) => t);
    expect(offs).toEqual([0, 200, 400, 600, 800]);
    expect(driver.writes.filter(([, on]) => on).map(([t]) => t)).toEqual([0, 50, 250, 450, 650, 850]);
  });

  it('blinks fast (100 ms on, 100 ms off) on a fault and ignores traffic there', async () => {
    const { clock, driver, player } = setup();
    player.play('fault');
    await clock.advance(150);
    player.traffic();
    await clock.advance(250);
    expect(driver.writes).toEqual([
      [0, true],
      [100, false],
      [200, true],
      [300, false],
      [400, true],
    ]);
  });

  it('leaves the LED off, the driver closed and no timer behind on close, whatever it was showing', async () => {
    const { clock, driver, player } = setup();
    player.play('searching');
    await clock.advance(500);
    await player.close();
    await player.close();
    player.play('healthy');
    player.traffic();
    await clock.advance(5_000);
    expect(driver.writes).toEqual([
      [0, true],
      [500, false],
    ]);
    expect(driver.closed).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    expect(player.pattern).toBe('off');
  });

  it('logs a driver that stops taking writes once, keeps blinking, and says when it works again', async () => {
    const clock = new FakeClock();
    const driver = new RecordingLedDriver(clock);
    const { logger, lines } = capturingLogger();
    const player = new LedPatternPlayer(driver, { logger, clock });
    player.play('fault');
    driver.failing = true;
    await clock.advance(1_000);
    driver.failing = false;
    await clock.advance(100);
    expect(lines.filter((l) => l.event === 'led.write_failed')).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'led.recovered')).toHaveLength(1);
    expect(driver.writes).toEqual([
      [0, true],
      [1_100, false],
    ]);
  });

  it('takes other flicker timings', async () => {
    const clock = new FakeClock();
    const driver = new RecordingLedDriver(clock);
    const player = new LedPatternPlayer(driver, { logger: silentLogger(), clock, timings: { flickerMs: 20, flickerEveryMs: 500 } });
    player.play('healthy');
    for (let t = 0; t < 1_000; t += 10) {
      player.traffic();
      await clock.advance(10);
    }
    expect(driver.writes).toEqual([
      [0, true],
      [0, false],
      [20, true],
      [500, false],
      [520, true],
    ]);
  });

  it('plays every state of the table with its own phases, round and round from "on"', async () => {
    for (const state of INDICATOR_STATES) {
      const { clock, driver, player } = setup();
      player.play(state);
      const pattern = STATUS_STATES[state].pattern;
      const phases = pattern.kind === 'steady' ? [] : pattern.phasesMs;
      const cycleMs = phases.reduce((a, b) => a + b, 0);
      await clock.advance(2 * cycleMs + 1);
      const expected: Array<[number, boolean]> = [[0, true]];
      for (let t = 0, i = 0; t + phases[i % phases.length]! <= 2 * cycleMs; i++) {
        t += phases[i % phases.length]!;
        expected.push([t, (i + 1) % 2 === 0]);
      }
      expect(driver.writes, state).toEqual(expected);
      await player.close();
    }
  });

  it('shows traffic on no state but the steady one', () => {
    const states = INDICATOR_STATES.filter((state) => {
      const { driver, player } = setup();
      player.play(state);
      player.traffic();
      return driver.writes.some(([, on]) => !on);
    });
    // A cycling pattern writes "off" by itself only after its first phase, so any off here is a flicker.
    expect(states).toEqual(['healthy']);
  });
});
