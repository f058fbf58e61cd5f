import type { Clock, Logger, StatusConfig, StatusLedConfig } from '@lifeline/shared/core';
import { openGpioLed } from './gpio-led-driver.js';
import type { LedDriver } from './led-driver.js';
import { LedPatternPlayer, type LedTimings } from './led-pattern-player.js';
import { LedStatusIndicator } from './led-status-indicator.js';
import { LogLedDriver } from './log-led-driver.js';
import { NoopLedDriver } from './noop-led-driver.js';
import { StatusHook, type SpawnHook } from './status-hook.js';
import { openSysfsLed } from './sysfs-led-driver.js';

export interface StatusIndicatorDeps {
  /** The agent's device id: the hook's LIFELINE_DEVICE. */
  deviceId: string;
  logger: Logger;
  clock?: Clock;
  /** Root of the sysfs tree for LED class devices and gpiochips; /sys unless a test has a fake tree. */
  sysfsRoot?: string;
  spawnHook?: SpawnHook;
  timings?: Partial<LedTimings>;
  hookTimeoutMs?: number;
}

/**
 * The LED driver a (checked, defaulted) `status.led` config names, opened and off.
 *
 * @throws LifelineError STATUS_LED_UNAVAILABLE when that LED cannot be driven.
 */
export async function openLedDriver(config: StatusLedConfig, deps: Pick<StatusIndicatorDeps, 'sysfsRoot'>): Promise<LedDriver> {
  switch (config.type) {
    case 'gpio':
      return openGpioLed({ pin: config.pin, activeLow: config.activeLow, sysfsRoot: deps.sysfsRoot });
    case 'sysfs-led':
      return openSysfsLed({ name: config.name, sysfsRoot: deps.sysfsRoot });
    case 'none':
      return new NoopLedDriver();
  }
}

/**
 * The agent's StatusIndicator from its `status` config, already showing `searching`. Never
 * throws for the LED: one that cannot be driven is reported with a warning and replaced by the
 * log driver, because a field site is better served by an agent without its LED than by none.
 */
export async function createStatusIndicator(config: StatusConfig, deps: StatusIndicatorDeps): Promise<LedStatusIndicator> {
  let driver: LedDriver;
  try {
    driver = await openLedDriver(config.led, deps);
  } catch (err) {
    deps.logger.warn(
      { event: 'led.unavailable', component: 'status-led', led: config.led, err },
      `status LED unavailable, showing its pattern in the debug log instead: ${(err as Error).message}`,
    );
    driver = new LogLedDriver(deps.logger);
  }
  const player = new LedPatternPlayer(driver, { logger: deps.logger, clock: deps.clock, timings: deps.timings });
  const hook = config.hook
    ? new StatusHook({
        command: config.hook,
        deviceId: deps.deviceId,
        logger: deps.logger,
        spawn: deps.spawnHook,
        clock: deps.clock,
        timeoutMs: deps.hookTimeoutMs,
      })
    : undefined;
  return new LedStatusIndicator({ player, hook, logger: deps.logger });
}
