import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { describeLedDriverContract, fakeSysfsTree } from './led-driver.contract.js';
import { openSysfsLed } from './sysfs-led-driver.js';

/** The Pi's ACT LED as Raspberry Pi OS leaves it: showing SD card activity. */
function actLed(trigger = 'none rc-feedback kbd-scrolllock timer oneshot heartbeat default-on [mmc0] actpwr', maxBrightness = '255') {
  return {
    'class/leds/ACT/trigger': `${trigger}\n`,
    'class/leds/ACT/brightness': '0\n',
    'class/leds/ACT/max_brightness': `${maxBrightness}\n`,
    'class/leds/PWR/trigger': 'none [default-on]\n',
  };
}

async function read(root: string, file: string): Promise<string> {
  return (await readFile(join(root, 'class/leds/ACT', file), 'utf8')).trim();
}

describeLedDriverContract('SysfsLedDriver on a fake sysfs tree', async () => {
  const tree = await fakeSysfsTree(actLed());
  const driver = await openSysfsLed({ name: 'ACT', sysfsRoot: tree.root });
  return {
    driver,
    lit: () => Number(readFileSync(join(tree.root, 'class/leds/ACT/brightness'), 'utf8')) > 0,
    released: () => readFileSync(join(tree.root, 'class/leds/ACT/trigger'), 'utf8') === 'mmc0',
    cleanup: tree.remove,
  };
});

describe('SysfsLedDriver', () => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
    remove = undefined;
  });

  it('sets the trigger to none on open and writes max_brightness for on, 0 for off', async () => {
    const tree = await fakeSysfsTree(actLed());
    remove = tree.remove;
    const driver = await openSysfsLed({ name: 'ACT', sysfsRoot: tree.root });
    expect(await read(tree.root, 'trigger')).toBe('none');
    expect(driver.savedTrigger).toBe('mmc0');
    driver.set(true);
    expect(await read(tree.root, 'brightness')).toBe('255');
    driver.set(false);
    expect(await read(tree.root, 'brightness')).toBe('0');
  });

  it('gives the LED the trigger it had back on close, so the Pi behaves as before', async () => {
    const tree = await fakeSysfsTree(actLed('none [heartbeat] mmc0'));
    remove = tree.remove;
    const driver = await openSysfsLed({ name: 'ACT', sysfsRoot: tree.root });
    driver.set(true);
    await driver.close();
    expect(await read(tree.root, 'trigger')).toBe('heartbeat');
    expect(await read(tree.root, 'brightness')).toBe('0');
  });

  it('leaves the trigger at none on close when it had none', async () => {
    const tree = await fakeSysfsTree(actLed('[none] mmc0 timer', '1'));
    remove = tree.remove;
    const driver = await openSysfsLed({ name: 'ACT', sysfsRoot: tree.root });
    driver.set(true);
    expect(await read(tree.root, 'brightness')).toBe('1');
    await driver.close();
    expect(await read(tree.root, 'trigger')).toBe('none');
  });

  it('names the LEDs there are when the configured one is missing', async () => {
    const tree = await fakeSysfsTree(actLed());
    remove = tree.remove;
    const err = await openSysfsLed({ name: 'led0', sysfsRoot: tree.root }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('no LED "led0"');
    expect((err as Error).message).toContain('ACT, PWR');
  });

  it('refuses with STATUS_LED_UNAVAILABLE when the LED cannot be written', async () => {
    const tree = await fakeSysfsTree(actLed());
    remove = tree.remove;
    // A directory in place of the file: as root, permission bits would not stop the write.
    await rm(join(tree.root, 'class/leds/ACT/brightness'));
    await mkdir(join(tree.root, 'class/leds/ACT/brightness'));
    const err = await openSysfsLed({ name: 'ACT', sysfsRoot: tree.root }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('cannot take over LED "ACT"');
  });
});
