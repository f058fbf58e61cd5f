import { systemClock, type Clock, type Logger, type TimerHandle } from '@lifeline/shared';
import type { LedDriver } from './led-driver.js';
import type { IndicatorState } from './status-indicator.js';

/** What the LED shows: an indicator state, or nothing (`off`: the agent is not running). */
export type LedPattern = IndicatorState | 'off';

/** Phase lengths of the patterns, in ms. The defaults are what docs/status-led.md prints. */
export interface LedTimings {
  /** On, then off, for this long each while `searching` (slow blink). */
  slowMs: number;
  /** On, then off, for this long each on a `fault` (fast blink). */
  fastMs: number;
  /** Length of the off-blip that shows console traffic on a solid LED. */
  flickerMs: number;
  /** At most one flicker starts per this period, however much traffic there is. */
  flickerEveryMs: number;
}

export const DEFAULT_LED_TIMINGS: LedTimings = { slowMs: 1_000, fastMs: 100, flickerMs: 50, flickerEveryMs: 200 };

export interface LedPatternPlayerOptions {
  logger: Logger;
  clock?: Clock;
  timings?: Partial<LedTimings>;
}

/**
 * Turns a pattern and traffic into on/off changes of one LED over time: slow blink for
 * `searching`, solid for `healthy` (with a short off-blip for traffic), fast blink for `fault`,
 * dark for `off`. Only changes reach the driver, and a driver that throws is logged (once per
 * streak of failures), never thrown into a timer.
 */
export class LedPatternPlayer {
  private current: LedPattern = 'off';
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

  get pattern(): LedPattern {
    return this.current;
  }

  /** Shows `pattern` from its start (blinks begin with "on"); the pattern already shown is left as it is. */
  play(pattern: LedPattern): void {
    if (this.closing || pattern === this.current) return;
    this.timer?.cancel();
    this.timer = undefined;
    this.current = pattern;
    switch (pattern) {
      case 'off':
        return this.write(false);
      case 'healthy':
        return this.write(true);
      case 'searching':
        return this.blink(this.timings.slowMs);
      case 'fault':
        return this.blink(this.timings.fastMs);
    }
  }

  /** Console bytes went by: a short off-blip on a solid LED, at most one per `flickerEveryMs`. */
  traffic(): void {
    // Hot path: two comparisons for every chunk while nothing is due.
    if (this.current !== 'healthy' || this.timer !== undefined) return;
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
    this.write(false);
    try {
      await this.driver.close();
    } catch (err) {
      this.logger.warn({ event: 'led.close_failed', err }, 'could not release the status LED');
    }
  }

  private blink(phaseMs: number): void {
    this.write(true);
    this.timer = this.clock.setTimeout(() => {
      this.write(false);
      this.timer = this.clock.setTimeout(() => this.blink(phaseMs), phaseMs);
    }, phaseMs);
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
