import { constants, writeFileSync } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** One GPIO line used as an output; what an LED needs of it. */
/**
 * How long a newly exported GPIO pin may take to become writable (udev gives its files to the gpio
 * group a moment after export). Not configurable: udev does it in milliseconds on a Pi.
 */
export const UDEV_WAIT_MS = 2_000;

export interface GpioPin {
  /** Sets the logical level (the kernel applies active_low). Synchronous: called from timers. Throws the fs error. */
  writeSync(value: 0 | 1): void;
  /** Gives the line back to the kernel. Throws the fs error. */
  unexport(): void;
}

export interface ExportGpioOptions {
  /** The LED lights when the pin is low: the kernel inverts `value` for us. */
  activeLow: boolean;
  /** Root of the sysfs tree (a test's fake tree); /sys by default. */
  sysfsRoot?: string;
  /** How long to wait for udev to hand the new gpioN files to the gpio group; UDEV_WAIT_MS unless a test says otherwise. */
  permissionWaitMs?: number;
}

/**
 * Exports a line through the kernel's sysfs GPIO interface (`/sys/class/gpio`) and makes it an
 * output that starts off. This is all an output LED needs: plain file writes, no native module,
 * so nothing has to be compiled on the Pi (it replaced onoff and its compiled `epoll`).
 *
 * Order matters: `active_low` is set first, then `direction` is written as the raw level "high" or
 * "low" (the kernel's direction_store sets the raw value), so an active-low LED never flashes on.
 * A line already exported (an agent that was killed) is taken over as it is.
 *
 * @throws the fs error (ENOENT: no sysfs GPIO; EACCES: not in the gpio group; EINVAL/EBUSY: no such
 * line or a driver holds it); the caller wraps it in a LifelineError.
 */
export async function exportGpioPin(gpio: number, options: ExportGpioOptions): Promise<SysfsGpioPin> {
  const base = join(options.sysfsRoot ?? '/sys', 'class', 'gpio');
  const dir = join(base, `gpio${gpio}`);
  const exported = await stat(dir).then(
    () => true,
    () => false,
  );
  if (!exported) await writeFile(join(base, 'export'), String(gpio));
  const pin = new SysfsGpioPin(base, gpio);
  try {
    // On Raspberry Pi OS a udev rule gives gpioN's files to the gpio group a moment after export.
    await waitUntilWritable(join(dir, 'direction'), options.permissionWaitMs ?? UDEV_WAIT_MS);
    await writeFile(join(dir, 'active_low'), options.activeLow ? '1' : '0');
    await writeFile(join(dir, 'direction'), options.activeLow ? 'high' : 'low');
  } catch (err) {
    if (!exported) {
      try {
        pin.unexport();
      } catch {
        // The first error says what went wrong; the line may not even exist.
      }
    }
    throw err;
  }
  return pin;
}

/** An exported sysfs GPIO line: `value` written directly, `unexport` on release. */
export class SysfsGpioPin implements GpioPin {
  constructor(
    private readonly base: string,
    readonly gpio: number,
  ) {}

  writeSync(value: 0 | 1): void {
    writeFileSync(join(this.base, `gpio${this.gpio}`, 'value'), value === 1 ? '1' : '0');
  }

  unexport(): void {
    writeFileSync(join(this.base, 'unexport'), String(this.gpio));
  }
}

async function waitUntilWritable(file: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await access(file, constants.W_OK);
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await sleep(20);
    }
  }
}
