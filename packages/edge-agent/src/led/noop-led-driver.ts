import type { LedDriver } from './led-driver.js';

/** No LED at all (`led: { type: none }`): the indicator still logs and runs the hook. */
export class NoopLedDriver implements LedDriver {
  readonly description = 'no LED';

  set(_on: boolean): void {}

  async close(): Promise<void> {}
}
