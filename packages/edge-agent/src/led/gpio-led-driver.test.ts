import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { openGpioLed, type GpioClass, type GpioPin } from './gpio-led-driver.js';
import { describeLedDriverContract, fakeSysfsTree } from './led-driver.contract.js';

/** A fake of onoff's Gpio: keeps the physical level, applies activeLow as onoff (the kernel) does. */
interface FakePin extends GpioPin {
  readonly gpio: number;
  readonly activeLow: boolean;
  /** Physical levels from export on; the first is the level the direction set. */
  readonly levels: Array<0 | 1>;
  exported: boolean;
}

function fakeGpio(opts: { accessible?: boolean; failExport?: Error } = {}): { Gpio: GpioClass; pins: FakePin[] } {
  const pins: FakePin[] = [];
  class FakeGpio implements FakePin {
    static readonly accessible = opts.accessible ?? true;
    readonly levels: Array<0 | 1>;
    readonly activeLow: boolean;
    exported = true;
    constructor(
      readonly gpio: number,
      direction: 'high' | 'low',
      _edge: 'none',
      options: { activeLow: boolean },
    ) {
      if (opts.failExport) throw opts.failExport;
      this.activeLow = options.activeLow;
      this.levels = [direction === 'high' ? 1 : 0];
      pins.push(this);
    }
    writeSync(value: 0 | 1): void {
      if (!this.exported) throw new Error('EBADF: bad file descriptor, write');
      this.levels.push(this.activeLow ? ((1 - value) as 0 | 1) : value);
    }
    unexport(): void {
      this.exported = false;
    }
  }
  return { Gpio: FakeGpio, pins };
}

const pi4Chips = { 'class/gpio/gpiochip512/base': '512\n', 'class/gpio/gpiochip512/label': 'pinctrl-bcm2711\n', 'class/gpio/gpiochip512/ngpio': '58\n' };

function isLit(pin: FakePin): boolean {
  return pin.levels.at(-1) === (pin.activeLow ? 0 : 1);
}

for (const activeLow of [false, true]) {
  describeLedDriverContract(`GpioLedDriver on a fake onoff Gpio${activeLow ? ', active low' : ''}`, async () => {
    const tree = await fakeSysfsTree(pi4Chips);
    const { Gpio, pins } = fakeGpio();
    const driver = await openGpioLed({ pin: 17, activeLow, sysfsRoot: tree.root, loadGpio: async () => Gpio });
    const pin = pins[0]!;
    return { driver, lit: () => isLit(pin), released: () => !pin.exported, cleanup: tree.remove };
  });
}

describe('openGpioLed', () => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
    remove = undefined;
  });

  async function sysfsRoot(): Promise<string> {
    const tree = await fakeSysfsTree(pi4Chips);
    remove = tree.remove;
    return tree.root;
  }

  it('exports the BCM pin under its sysfs number on a kernel numbering from 512', async () => {
    const { Gpio, pins } = fakeGpio();
    const driver = await openGpioLed({ pin: 17, sysfsRoot: await sysfsRoot(), loadGpio: async () => Gpio });
    expect(pins.map((p) => p.gpio)).toEqual([529]);
    expect(driver.description).toBe('GPIO17 (sysfs 529)');
  });

  it('never lights an active-low LED while making the pin an output', async () => {
    const { Gpio, pins } = fakeGpio();
    await openGpioLed({ pin: 17, activeLow: true, sysfsRoot: await sysfsRoot(), loadGpio: async () => Gpio });
    // Physical high is off for an active-low LED, from the first level on.
    expect(pins[0]!.levels).toEqual([1, 1]);
  });

  it('refuses with STATUS_LED_UNAVAILABLE when GPIO is not accessible (not a Pi, or not in the gpio group)', async () => {
    const { Gpio } = fakeGpio({ accessible: false });
    const err = await openGpioLed({ pin: 17, sysfsRoot: await sysfsRoot(), loadGpio: async () => Gpio }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('gpio group');
  });

  it('refuses with STATUS_LED_UNAVAILABLE when the pin cannot be exported', async () => {
    const { Gpio } = fakeGpio({ failExport: Object.assign(new Error('EBUSY: resource busy or locked, write'), { code: 'EBUSY' }) });
    const err = await openGpioLed({ pin: 17, sysfsRoot: await sysfsRoot(), loadGpio: async () => Gpio }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('GPIO17 (sysfs gpio529 on gpiochip512)');
  });

  it('refuses with STATUS_LED_UNAVAILABLE when onoff cannot be loaded', async () => {
    const err = await openGpioLed({ pin: 17, sysfsRoot: await sysfsRoot(), loadGpio: () => Promise.reject(new Error('epoll.node: wrong ELF class')) }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('wrong ELF class');
  });

  // On a Pi this would really drive GPIO17, so it runs only where there is no sysfs GPIO at all.
  it.skipIf(existsSync('/sys/class/gpio'))('refuses with STATUS_LED_UNAVAILABLE through the real onoff on a machine without GPIO', async () => {
    const err = await openGpioLed({ pin: 17 }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
  });
});
