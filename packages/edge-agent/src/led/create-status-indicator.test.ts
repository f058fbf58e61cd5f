import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { statusConfigSchema } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { createStatusIndicator, openLedDriver } from './create-status-indicator.js';
import { GpioLedDriver } from './gpio-led-driver.js';
import { capturingLogger, fakeSysfsTree } from './led-driver.contract.js';
import { NoopLedDriver } from './noop-led-driver.js';
import { SysfsLedDriver } from './sysfs-led-driver.js';

const sysfsFiles = {
  'class/leds/ACT/trigger': 'none timer [mmc0]\n',
  'class/leds/ACT/brightness': '0\n',
  'class/leds/ACT/max_brightness': '1\n',
  'class/gpio/gpiochip512/base': '512\n',
  'class/gpio/gpiochip512/label': 'pinctrl-bcm2711\n',
  'class/gpio/gpiochip512/ngpio': '58\n',
  'class/gpio/export': '',
  'class/gpio/unexport': '',
  // As the kernel (and udev) would have left it after export: the test's tree cannot create it on write.
  'class/gpio/gpio529/direction': 'in\n',
  'class/gpio/gpio529/active_low': '0\n',
  'class/gpio/gpio529/value': '0\n',
};

describe('createStatusIndicator', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function tree(): Promise<string> {
    const t = await fakeSysfsTree(sysfsFiles);
    cleanups.push(t.remove);
    return t.root;
  }

  it('has no LED by default', async () => {
    const config = statusConfigSchema.parse({});
    expect(config).toEqual({ led: { type: 'none' } });
    expect(await openLedDriver(config.led, {})).toBeInstanceOf(NoopLedDriver);
  });

  it('opens the LED class device or the GPIO pin the config names', async () => {
    const sysfsRoot = await tree();
    const sysfs = await openLedDriver(statusConfigSchema.parse({ led: { type: 'sysfs-led', name: 'ACT' } }).led, { sysfsRoot });
    expect(sysfs).toBeInstanceOf(SysfsLedDriver);
    await sysfs.close();
    const gpio = await openLedDriver(statusConfigSchema.parse({ led: { type: 'gpio', pin: 17 } }).led, { sysfsRoot });
    expect(gpio).toBeInstanceOf(GpioLedDriver);
    expect(readFileSync(join(sysfsRoot, 'class/gpio/gpio529/direction'), 'utf8')).toBe('low');
    await gpio.close();
    expect(readFileSync(join(sysfsRoot, 'class/gpio/unexport'), 'utf8')).toBe('529');
  });

  it('shows searching on the configured LED from the start and gives the LED back on close', async () => {
    const sysfsRoot = await tree();
    const clock = new FakeClock();
    const { logger } = capturingLogger();
    const indicator = await createStatusIndicator(statusConfigSchema.parse({ led: { type: 'sysfs-led', name: 'ACT' } }), {
      deviceId: 'd',
      logger,
      clock,
      sysfsRoot,
    });
    const brightness = () => readFileSync(join(sysfsRoot, 'class/leds/ACT/brightness'), 'utf8');
    expect(brightness()).toBe('1');
    await clock.advance(1_000);
    expect(brightness()).toBe('0');
    await indicator.close();
    expect(await readFile(join(sysfsRoot, 'class/leds/ACT/trigger'), 'utf8')).toBe('mmc0');
    expect(clock.pendingTimers).toBe(0);
  });

  it('falls back to the log driver with a warning when the LED cannot be driven', async () => {
    const sysfsRoot = await tree();
    // As for a user outside the gpio group (root would ignore a mode, so the file is simply gone).
    await rm(join(sysfsRoot, 'class/gpio/export'));
    const { logger, lines } = capturingLogger();
    const clock = new FakeClock();
    const indicator = await createStatusIndicator(statusConfigSchema.parse({ led: { type: 'gpio', pin: 17 } }), {
      deviceId: 'd',
      logger,
      clock,
      sysfsRoot,
    });
    const warning = lines.find((l) => l.event === 'led.unavailable');
    expect(warning).toMatchObject({ level: 40 });
    expect(warning?.msg).toContain('gpio group');
    // The pattern still plays, into the debug log.
    await clock.advance(1_000);
    expect(lines.filter((l) => l.event === 'led').map((l) => l.on)).toEqual([true, false]);
    await indicator.close();
  });

  it('runs the configured hook for the first state through a real shell', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lifeline-hook-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const out = join(dir, 'state');
    const { logger } = capturingLogger();
    const config = statusConfigSchema.parse({ hook: `echo "$LIFELINE_DEVICE $LIFELINE_STATE $LIFELINE_REASON" > "${out}"` });
    const indicator = await createStatusIndicator(config, { deviceId: 'rtr-tokyo-01', logger, clock: new FakeClock() });
    await indicator.close();
    expect(await readFile(out, 'utf8')).toBe('rtr-tokyo-01 searching agent started\n');
  });
});

describe('statusConfigSchema', () => {
  it('refuses an LED name that would leave /sys/class/leds', () => {
    expect(statusConfigSchema.safeParse({ led: { type: 'sysfs-led', name: '../../power' } }).success).toBe(false);
    expect(statusConfigSchema.safeParse({ led: { type: 'sysfs-led', name: '..' } }).success).toBe(false);
    expect(statusConfigSchema.safeParse({ led: { type: 'sysfs-led', name: 'mmc0::' } }).success).toBe(true);
  });

  it('defaults activeLow to false and refuses a pin the Pi does not have', () => {
    expect(statusConfigSchema.parse({ led: { type: 'gpio', pin: 17 } }).led).toEqual({ type: 'gpio', pin: 17, activeLow: false });
    expect(statusConfigSchema.safeParse({ led: { type: 'gpio', pin: 54 } }).success).toBe(false);
  });
});
