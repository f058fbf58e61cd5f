import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { openGpioLed } from './gpio-led-driver.js';
import { describeLedDriverContract, fakeSysfsTree } from './led-driver.contract.js';

const pi4Chips = {
  'class/gpio/gpiochip512/base': '512\n',
  'class/gpio/gpiochip512/label': 'pinctrl-bcm2711\n',
  'class/gpio/gpiochip512/ngpio': '58\n',
  'class/gpio/export': '',
  'class/gpio/unexport': '',
};
/** GPIO17's files as the kernel shows them once it is exported (a plain tree cannot create them on write). */
const gpio17Exported = {
  'class/gpio/gpio529/direction': 'in\n',
  'class/gpio/gpio529/active_low': '0\n',
  'class/gpio/gpio529/value': '0\n',
};

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

for (const activeLow of [false, true]) {
  describeLedDriverContract(`GpioLedDriver on a sysfs GPIO tree${activeLow ? ', active low' : ''}`, async () => {
    const tree = await fakeSysfsTree({ ...pi4Chips, ...gpio17Exported });
    const driver = await openGpioLed({ pin: 17, activeLow, sysfsRoot: tree.root });
    return {
      driver,
      // `value` is logical: the kernel applies active_low, which the driver set.
      lit: () => read(tree.root, 'class/gpio/gpio529/value') === '1',
      released: () => read(tree.root, 'class/gpio/unexport') === '529',
      cleanup: tree.remove,
    };
  });
}

describe('openGpioLed', () => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
    remove = undefined;
  });

  async function sysfsRoot(files: Record<string, string> = { ...pi4Chips, ...gpio17Exported }): Promise<string> {
    const tree = await fakeSysfsTree(files);
    remove = tree.remove;
    return tree.root;
  }

  it('exports the BCM pin under its sysfs number on a kernel numbering from 512, waiting for its files to appear', async () => {
    const root = await sysfsRoot(pi4Chips);
    // The kernel creates gpio529/ on export and udev hands it to the gpio group a moment later:
    // here it appears whole (made aside, then renamed in) 100 ms after the driver starts waiting.
    const ready = join(root, 'gpio529.ready');
    await mkdir(ready);
    for (const [path, content] of Object.entries(gpio17Exported)) await writeFile(join(ready, path.split('/').at(-1)!), content);
    const kernel = setTimeout(() => void rename(ready, join(root, 'class/gpio/gpio529')), 100);
    const driver = await openGpioLed({ pin: 17, sysfsRoot: root });
    clearTimeout(kernel);
    expect(read(root, 'class/gpio/export')).toBe('529');
    expect(read(root, 'class/gpio/gpio529/active_low')).toBe('0');
    expect(read(root, 'class/gpio/gpio529/direction')).toBe('low');
    expect(driver.description).toBe('GPIO17 (sysfs 529)');
  });

  it('never lights an active-low LED while making the pin an output', async () => {
    const root = await sysfsRoot();
    await openGpioLed({ pin: 17, activeLow: true, sysfsRoot: root });
    // active_low first, then the raw level high (off for an active-low LED), then logical 0.
    expect(read(root, 'class/gpio/gpio529/active_low')).toBe('1');
    expect(read(root, 'class/gpio/gpio529/direction')).toBe('high');
  });

  it('refuses with STATUS_LED_UNAVAILABLE when GPIO is not accessible (not a Pi, or not in the gpio group)', async () => {
    const root = await sysfsRoot();
    await rm(join(root, 'class/gpio/export'));
    const err = await openGpioLed({ pin: 17, sysfsRoot: root }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('gpio group');
  });

  it('refuses with STATUS_LED_UNAVAILABLE and gives the pin back when it never becomes usable', async () => {
    const root = await sysfsRoot(pi4Chips);
    const err = await openGpioLed({ pin: 17, sysfsRoot: root, permissionWaitMs: 100 }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('GPIO17 (sysfs gpio529 on gpiochip512)');
    expect(read(root, 'class/gpio/export')).toBe('529');
    expect(read(root, 'class/gpio/unexport')).toBe('529');
  });

  it('refuses with STATUS_LED_UNAVAILABLE when the pin cannot be exported', async () => {
    const root = await sysfsRoot(pi4Chips);
    // A write to a directory fails (EISDIR), as the kernel's export fails with EBUSY or EINVAL.
    await rm(join(root, 'class/gpio/export'));
    await mkdir(join(root, 'class/gpio/export'));
    const err = await openGpioLed({ pin: 17, sysfsRoot: root }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('GPIO17 (sysfs gpio529 on gpiochip512)');
  });

  // On a Pi this would really drive GPIO17, so it runs only where there is no sysfs GPIO at all.
  it.skipIf(existsSync('/sys/class/gpio'))(
    'refuses with STATUS_LED_UNAVAILABLE through the real /sys on a machine without GPIO',
    async () => {
      const err = await openGpioLed({ pin: 17 }).catch((e: unknown) => e);
      expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    },
  );
});
