import { LifelineError } from '@lifeline/shared';
import { sysfsGpioNumber } from './gpio-number.js';
import type { LedDriver } from './led-driver.js';

/** The part of onoff's `Gpio` an LED needs; tests pass a fake of the same shape. */
export interface GpioPin {
  writeSync(value: 0 | 1): void;
  unexport(): void;
}

/** onoff's `Gpio` class, as far as the LED uses it. */
export interface GpioClass {
  /** False when /sys/class/gpio/export cannot be opened for writing (no sysfs GPIO, or no permission). */
  readonly accessible: boolean;
  new (gpio: number, direction: 'high' | 'low', edge: 'none', options: { activeLow: boolean }): GpioPin;
}

export interface GpioLedOptions {
  /** BCM GPIO number (GPIO17 is header pin 11), mapped to the kernel's sysfs number here. */
  pin: number;
  /** The LED lights when the pin is low. */
  activeLow?: boolean;
  /** Where to look for gpiochips; onoff itself always uses /sys/class/gpio. */
  sysfsRoot?: string;
  /** Loads onoff's Gpio (a native module, so loaded only when a GPIO LED is configured). */
  loadGpio?: () => Promise<GpioClass>;
}

const loadOnoff = async (): Promise<GpioClass> => (await import('onoff')).Gpio;

/**
 * Exports the LED's pin as an output, off, and returns its driver.
 *
 * @throws LifelineError STATUS_LED_UNAVAILABLE when onoff cannot load, sysfs GPIO is missing or not
 * writable (not a Pi, or the user is not in the gpio group), or the pin cannot be exported.
 * The agent then falls back to the log driver.
 */
export async function openGpioLed(options: GpioLedOptions): Promise<GpioLedDriver> {
  const activeLow = options.activeLow ?? false;
  let Gpio: GpioClass;
  try {
    Gpio = await (options.loadGpio ?? loadOnoff)();
  } catch (err) {
    throw new LifelineError('STATUS_LED_UNAVAILABLE', `cannot load onoff for the GPIO LED: ${(err as Error).message}`, { cause: err });
  }
  if (!Gpio.accessible) {
    throw new LifelineError(
      'STATUS_LED_UNAVAILABLE',
      'cannot drive a GPIO LED: /sys/class/gpio/export is missing or not writable (not a Raspberry Pi, or the agent\'s user is not in the gpio group)',
    );
  }
  const { gpio, chip } = await sysfsGpioNumber(options.pin, options.sysfsRoot);
  let pin: GpioPin;
  try {
    // "high"/"low" set the raw level as the pin becomes an output, so the LED never flashes on.
    pin = new Gpio(gpio, activeLow ? 'high' : 'low', 'none', { activeLow });
    pin.writeSync(0);
  } catch (err) {
    throw new LifelineError('STATUS_LED_UNAVAILABLE', `cannot use GPIO${options.pin} (sysfs gpio${gpio} on ${chip.name}) for the LED: ${(err as Error).message}`, { cause: err });
  }
  return new GpioLedDriver(pin, `GPIO${options.pin} (sysfs ${gpio}${activeLow ? ', active low' : ''})`);
}

/** An LED on a GPIO pin through onoff (values are logical: onoff applies activeLow). */
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
    } finally {
      // Unexport even when the last write failed: the pin is free for the next start either way.
      this.pin.unexport();
    }
  }
}
