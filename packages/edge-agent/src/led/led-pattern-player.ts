import { systemClock, type Clock, type Logger, type TimerHandle } from '@lifeline/shared/core';
import type { LedDriver } from './led-driver.js';
import { STATUS_STATES, type IndicatorState } from './status-states.js';

/** What the LED shows: an indicator state, or nothing (`off`: the agent is not running). */
export type ShownState = IndicatorState | 'off';

/** How traffic shows on a steady LED, in ms. The blink patterns are in STATUS_STATES. */
export interface LedTimings {
  /** Length of the off-blip that shows console traffic on a solid LED. */
  flickerMs: number;
  /** At most one flicker starts per this period, however much traffic there is. */
  flickerEveryMs: number;
}

export const DEFAULT_LED_TIMINGS: LedTimings = { flickerMs: 50, flickerEveryMs: 200 };

export interface LedPatternPlayerOptions {
  logger: Logger;
  clock?: Clock;
  timings?: Partial<LedTimings>;
}

/**
 * Turns a state and traffic into on/off changes of one LED over time: each state's pattern from
 * STATUS_STATES (a steady LED shows traffic as a short off-blip), dark for `off`. Only changes reach the driver, and a driver that throws is logged (once per
 * streak of failures), never thrown into a timer.
 */
export class LedPatternPlayer {
  private current: ShownState = 'off';
  /** Whether the current pattern is steady on, the only one traffic shows on. */
  private steady = false;
  private lit: boolean | undefined;
  /** The next blink phase, or the end of a flicker while healthy. */
  private timer: TimerHandle | undefined;
  private nextFlickerAt = 0;
  private failing = false;
  private closing: Promise<void> | undefined;
  private readonly timings: LedTimings;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(
    private readonly driver: LedDriver,
    options: LedPatternPlayerOptions,
  ) {
    this.timings = { ...DEFAULT_LED_TIMINGS, ...options.timings };
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'status-led', led: driver.description });
  }

  get pattern(): ShownState {
    return this.current;
  }

  /** Shows `state`'s pattern from its start (cycles begin with "on"); the state already shown is left as it is. */
  play(state: ShownState): void {
    if (this.closing || state === this.current) return;
    this.timer?.cancel();
    this.timer = undefined;
    this.current = state;
    this.steady = false;
    if (state === 'off') return this.write(false);
    const pattern = STATUS_STATES[state].pattern;
    if (pattern.kind === 'steady') {
      this.steady = true;
      return this.write(true);
    }
    this.cycle(pattern.phasesMs, 0);
  }

  /** Console bytes went by: a short off-blip on a solid LED, at most one per `flickerEveryMs`. */
  traffic(): void {
    // Hot path: two comparisons for every chunk while nothing is due.
    if (!this.steady || this.timer !== undefined) return;
    const now = this.clock.now();
    if (now < this.nextFlickerAt) return;
    this.nextFlickerAt = now + this.timings.flickerEveryMs;
    this.write(false);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.write(true);
    }, this.timings.flickerMs);
  }

  /** Stops the pattern, puts the LED out and closes the driver. Never rejects; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    this.current = 'off';
    this.steady = false;
    this.write(false);
    try {
      await this.driver.close();
    } catch (err) {
      this.logger.warn({ event: 'led.close_failed', err }, 'could not release the status LED');
    }
  }

  /** Phase `index` of `phasesMs` (even: on, odd: off), then the next one, round and round. */
  private cycle(phasesMs: readonly number[], index: number): void {
    this.write(index % 2 === 0);
    this.timer = this.clock.setTimeout(() => this.cycle(phasesMs, (index + 1) % phasesMs.length), phasesMs[index]!);
  }

  private write(on: boolean): void {
    if (on === this.lit) return;
    try {
      this.driver.set(on);
      this.lit = on;
      if (this.failing) this.logger.info({ event: 'led.recovered' }, 'status LED writes work again');
      this.failing = false;
    } catch (err) {
      // Left unknown, so the next phase writes again rather than trusting a failed write.
      this.lit = undefined;
      if (!this.failing) this.logger.warn({ event: 'led.write_failed', err }, 'cannot drive the status LED; the agent goes on without it');
      this.failing = true;
    }
  }
}
