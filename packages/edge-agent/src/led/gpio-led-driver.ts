import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { LifelineError } from '@lifeline/shared/core';
import { sysfsGpioNumber } from './gpio-number.js';
import type { LedDriver } from './led-driver.js';
import { exportGpioPin, type GpioPin } from './sysfs-gpio-pin.js';

export type { GpioPin } from './sysfs-gpio-pin.js';

export interface GpioLedOptions {
  /** BCM GPIO number (GPIO17 is header pin 11), mapped to the kernel's sysfs number here. */
  pin: number;
  /** The LED lights when the pin is low. */
  activeLow?: boolean;
  /** Root of the sysfs tree with class/gpio (gpiochips, export, gpioN); /sys unless a test has a fake tree. */
  sysfsRoot?: string;
  /** How long to wait for udev to give a freshly exported pin to the gpio group (default 2000 ms). */
  permissionWaitMs?: number;
}

/**
 * Exports the LED's pin as an output, off, and returns its driver.
 *
 * @throws LifelineError STATUS_LED_UNAVAILABLE when sysfs GPIO is missing or not writable (not a
 * Pi, or the user is not in the gpio group), or the pin cannot be exported or made an output.
 * The agent then falls back to the log driver.
 */
export async function openGpioLed(options: GpioLedOptions): Promise<GpioLedDriver> {
  const activeLow = options.activeLow ?? false;
  const sysfsRoot = options.sysfsRoot ?? '/sys';
  const exportFile = join(sysfsRoot, 'class', 'gpio', 'export');
  try {
    await access(exportFile, constants.W_OK);
  } catch {
    throw new LifelineError(
      'STATUS_LED_UNAVAILABLE',
      `cannot drive a GPIO LED: ${exportFile} is missing or not writable (not a Raspberry Pi, or the agent's user is not in the gpio group)`,
    );
  }
  const { gpio, chip } = await sysfsGpioNumber(options.pin, sysfsRoot);
  let pin: GpioPin;
  try {
    pin = await exportGpioPin(gpio, { activeLow, sysfsRoot, permissionWaitMs: options.permissionWaitMs });
  } catch (err) {
    throw new LifelineError(
      'STATUS_LED_UNAVAILABLE',
      `cannot use GPIO${options.pin} (sysfs gpio${gpio} on ${chip.name}) for the LED: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return new GpioLedDriver(pin, `GPIO${options.pin} (sysfs ${gpio}${activeLow ? ', active low' : ''})`);
}

/** An LED on a GPIO pin (values are logical: the kernel applies active_low). */
export class GpioLedDriver implements LedDriver {
  private closed = false;

  constructor(
    private readonly pin: GpioPin,
    readonly description: string,
  ) {}

  set(on: boolean): void {
    if (this.closed) return;
    try {
      this.pin.writeSync(on ? 1 : 0);
    } catch (err) {
      throw new LifelineError('STATUS_LED_UNAVAILABLE', `cannot write ${this.description}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.pin.writeSync(0);
    } catch (err) {
      throw new LifelineError('STATUS_LED_UNAVAILABLE', `cannot put ${this.description} out: ${(err as Error).message}`, { cause: err });
    } finally {
      // Unexport even when the last write failed: the pin is free for the next start either way.
      this.unexport();
    }
  }

  private unexport(): void {
    try {
      this.pin.unexport();
    } catch (err) {
      throw new LifelineError('STATUS_LED_UNAVAILABLE', `cannot release ${this.description}: ${(err as Error).message}`, { cause: err });
    }
  }
}
