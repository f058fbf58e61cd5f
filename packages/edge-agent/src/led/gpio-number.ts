import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LifelineError } from '@lifeline/shared/core';

/** Labels of the gpiochip that carries the Pi's header GPIOs: Pi 1-3 and Zero, Pi 4, Pi 5 (RP1). */
export const PI_GPIO_CHIP_LABELS: readonly string[] = ['pinctrl-bcm2835', 'pinctrl-bcm2711', 'pinctrl-rp1'];

/** One gpiochip as /sys/class/gpio/gpiochipN describes it. */
export interface GpioChip {
  /** Directory name, e.g. "gpiochip512". */
  name: string;
  base: number;
  label: string;
  /** Number of lines; undefined when the file is missing. */
  ngpio: number | undefined;
}

/** The gpiochips under `<sysfsRoot>/class/gpio`, ordered by base; empty when there is no sysfs GPIO. */
export async function readGpioChips(sysfsRoot = '/sys'): Promise<GpioChip[]> {
  const dir = join(sysfsRoot, 'class', 'gpio');
  const names = await readdir(dir).catch(() => [] as string[]);
  const chips: GpioChip[] = [];
  for (const name of names.filter((n) => /^gpiochip\d+$/.test(n))) {
    const base = Number.parseInt(await readText(join(dir, name, 'base')), 10);
    if (!Number.isInteger(base)) continue;
    const ngpio = Number.parseInt(await readText(join(dir, name, 'ngpio')), 10);
    chips.push({ name, base, label: await readText(join(dir, name, 'label')), ngpio: Number.isInteger(ngpio) ? ngpio : undefined });
  }
  return chips.sort((a, b) => a.base - b.base);
}

/**
 * The sysfs GPIO number of a BCM GPIO (the number on Pi pinout diagrams). Kernels before 6.6
 * number the Pi's main gpiochip from 0, later ones from 512 (so GPIO17 is 529), and on a Pi 5
 * the header is on the RP1's chip: the base is read from the chip whose label says it is the Pi's,
 * else from the chip with the lowest base.
 *
 * @throws LifelineError STATUS_LED_UNAVAILABLE when there are no gpiochips or the pin is past the chip's end.
 */
export async function sysfsGpioNumber(bcmPin: number, sysfsRoot = '/sys'): Promise<{ gpio: number; chip: GpioChip }> {
  const chips = await readGpioChips(sysfsRoot);
  const chip = chips.find((c) => PI_GPIO_CHIP_LABELS.includes(c.label)) ?? chips[0];
  if (!chip) {
    throw new LifelineError(
      'STATUS_LED_UNAVAILABLE',
      `no GPIO chips in ${join(sysfsRoot, 'class', 'gpio')}: not a Raspberry Pi, or a kernel without sysfs GPIO`,
    );
  }
  if (chip.ngpio !== undefined && bcmPin >= chip.ngpio) {
    throw new LifelineError(
      'STATUS_LED_UNAVAILABLE',
      `GPIO${bcmPin} does not exist: ${chip.name} (${chip.label || 'no label'}) has ${chip.ngpio} lines`,
    );
  }
  return { gpio: chip.base + bcmPin, chip };
}

async function readText(file: string): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '')).trim();
}
