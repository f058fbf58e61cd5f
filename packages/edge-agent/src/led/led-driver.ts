/**
 * One LED, on or off. Implementations: GPIO through sysfs (class/gpio), a Linux LED class device, a log line,
 * nothing. All run the contract suite in led-driver.contract.ts.
 */
export interface LedDriver {
  /** Short text for logs, e.g. "GPIO17 (sysfs 529)" or "LED ACT". */
  readonly description: string;
  /**
   * Lights the LED or puts it out. Synchronous and cheap: the pattern player calls it from timers.
   * May throw a LifelineError (STATUS_LED_UNAVAILABLE) when the hardware refuses the write; does
   * nothing after `close()`.
   */
  set(on: boolean): void;
  /**
   * Puts the LED out and releases it (unexports the pin, gives the LED its old trigger back).
   * Safe to call twice; `set()` is ignored afterwards, even when closing rejected (a LifelineError,
   * STATUS_LED_UNAVAILABLE, when the hardware refused the last write or the release).
   */
  close(): Promise<void>;
}
