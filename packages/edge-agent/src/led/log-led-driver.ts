import type { Logger } from '@lifeline/shared/core';
import type { LedDriver } from './led-driver.js';

/**
 * An LED seen in the log: each on/off change at debug. For development, and what the agent falls
 * back to when the configured LED cannot be driven.
 */
export class LogLedDriver implements LedDriver {
  readonly description = 'log';
  private lit = false;
  private closed = false;
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger.child({ component: 'status-led' });
  }

  set(on: boolean): void {
    if (this.closed || on === this.lit) return;
    this.lit = on;
    this.logger.debug({ event: 'led', on }, on ? 'LED on' : 'LED off');
  }

  async close(): Promise<void> {
    this.set(false);
    this.closed = true;
  }
}
