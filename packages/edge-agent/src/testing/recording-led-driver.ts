import type { Clock } from '@lifeline/shared/core';
import type { LedDriver } from '../led/led-driver.js';

/**
 * An LED double for unit tests: records every change as `[time, on]` on the given clock, so a
 * test can read a pattern off it. Passes the LedDriver contract suite (recording-led-driver.test.ts)
 * like the real drivers. `failing` makes `set()` throw, as a GPIO that refuses writes does.
 */
export class RecordingLedDriver implements LedDriver {
  readonly description = 'recording';
  /** Every change of the LED, in order: [clock time, lit]. */
  readonly writes: Array<[number, boolean]> = [];
  closed = false;
  failing = false;

  constructor(private readonly clock: Pick<Clock, 'now'>) {}

  /** Whether the LED is lit now. */
  get lit(): boolean {
    return this.writes.at(-1)?.[1] ?? false;
  }

  set(on: boolean): void {
    if (this.closed) return;
    if (this.failing) throw new Error('EIO: i/o error, write');
    if (on !== this.lit) this.writes.push([this.clock.now(), on]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.set(false);
    this.closed = true;
  }
}
