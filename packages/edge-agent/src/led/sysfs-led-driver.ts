import { writeFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LifelineError } from '@lifeline/shared/core';
import type { LedDriver } from './led-driver.js';

export interface SysfsLedOptions {
  /** Name under /sys/class/leds, e.g. "ACT" (current Raspberry Pi OS) or "led0" (older). */
  name: string;
  sysfsRoot?: string;
}

/**
 * Takes a Linux LED class device over: remembers its trigger (the Pi's ACT LED shows SD card
 * activity, `mmc0`), sets the trigger to `none` and the LED off.
 *
 * @throws LifelineError STATUS_LED_UNAVAILABLE when there is no such LED or its files are not
 * writable (on a Pi they belong to root: see docs/status-led.md for the udev rule).
 */
export async function openSysfsLed(options: SysfsLedOptions): Promise<SysfsLedDriver> {
  const root = options.sysfsRoot ?? '/sys';
  const dir = join(root, 'class', 'leds', options.name);
  let triggers: string;
  try {
    triggers = await readFile(join(dir, 'trigger'), 'utf8');
  } catch (err) {
    const present = await readdir(join(root, 'class', 'leds')).catch(() => [] as string[]);
    const hint = present.length > 0 ? `LEDs here: ${present.join(', ')}` : 'this machine has no LED class devices';
    throw new LifelineError('STATUS_LED_UNAVAILABLE', `no LED "${options.name}" in ${join(root, 'class', 'leds')} (${hint})`, {
      cause: err,
    });
  }
  // The active trigger is the one in brackets: "none rc-feedback [mmc0] timer ...".
  const savedTrigger = /\[([^\]]+)\]/.exec(triggers)?.[1] ?? 'none';
  const max = Number.parseInt((await readFile(join(dir, 'max_brightness'), 'utf8').catch(() => '1')).trim(), 10);
  const driver = new SysfsLedDriver(dir, options.name, Number.isInteger(max) && max > 0 ? max : 1, savedTrigger);
  try {
    await writeFile(join(dir, 'trigger'), 'none');
    driver.set(false);
  } catch (err) {
    throw new LifelineError(
      'STATUS_LED_UNAVAILABLE',
      `cannot take over LED "${options.name}": ${(err as Error).message} (see docs/status-led.md for the udev rule)`,
      { cause: err },
    );
  }
  return driver;
}

/** An LED class device: `brightness` written directly, the old trigger given back on close. */
export class SysfsLedDriver implements LedDriver {
  readonly description: string;
  private closed = false;

  constructor(
    private readonly dir: string,
    name: string,
    private readonly maxBrightness: number,
    /** The trigger the LED had before; written back on close. */
    readonly savedTrigger: string,
  ) {
    this.description = `LED ${name}`;
  }

  set(on: boolean): void {
    if (this.closed) return;
    try {
      writeFileSync(join(this.dir, 'brightness'), on ? String(this.maxBrightness) : '0');
    } catch (err) {
      throw new LifelineError('STATUS_LED_UNAVAILABLE', `cannot write ${this.description}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    let failure: Error | undefined;
    try {
      this.set(false);
    } catch (err) {
      failure = err as Error;
    }
    this.closed = true;
    // The trigger goes back even if the last write failed, so the Pi behaves as before.
    if (this.savedTrigger !== 'none') {
      try {
        await writeFile(join(this.dir, 'trigger'), this.savedTrigger);
      } catch (err) {
        failure ??= new LifelineError(
          'STATUS_LED_UNAVAILABLE',
          `cannot give ${this.description} its trigger "${this.savedTrigger}" back: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    if (failure) throw failure;
  }
}
