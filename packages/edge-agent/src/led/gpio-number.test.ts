import { afterEach, describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { sysfsGpioNumber } from './gpio-number.js';
import { fakeSysfsTree } from './led-driver.contract.js';

/** /sys/class/gpio/gpiochipN/{base,label,ngpio} for each chip. */
function chips(...list: Array<[base: number, label: string, ngpio: number]>): Record<string, string> {
  const files: Record<string, string> = { 'class/gpio/export': '', 'class/gpio/unexport': '' };
  for (const [base, label, ngpio] of list) {
    files[`class/gpio/gpiochip${base}/base`] = `${base}\n`;
    files[`class/gpio/gpiochip${base}/label`] = `${label}\n`;
    files[`class/gpio/gpiochip${base}/ngpio`] = `${ngpio}\n`;
  }
  return files;
}

describe('sysfsGpioNumber', () => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
    remove = undefined;
  });

  async function numberOf(pin: number, files: Record<string, string>) {
    const tree = await fakeSysfsTree(files);
    remove = tree.remove;
    return sysfsGpioNumber(pin, tree.root);
  }

  it('keeps GPIO17 as 17 on an old kernel whose bcm2835 chip starts at 0', async () => {
    const { gpio, chip } = await numberOf(17, chips([0, 'pinctrl-bcm2835', 54], [504, 'raspberrypi-exp-gpio', 8]));
    expect(gpio).toBe(17);
    expect(chip.name).toBe('gpiochip0');
  });

  it('makes GPIO17 529 on a Pi 4 with a 6.6 kernel (bcm2711 chip at 512)', async () => {
    const { gpio } = await numberOf(17, chips([512, 'pinctrl-bcm2711', 58], [570, 'raspberrypi-exp-gpio', 8]));
    expect(gpio).toBe(529);
  });

  it('finds the RP1 chip on a Pi 5, past the SoC chips with lower bases', async () => {
    const pi5 = chips(
      [512, 'gpio-brcmstb@107d508500', 32],
      [544, 'gpio-brcmstb@107d508520', 4],
      [548, 'gpio-brcmstb@107d517c00', 17],
      [565, 'gpio-brcmstb@107d517c20', 6],
      [571, 'pinctrl-rp1', 54],
    );
    const { gpio, chip } = await numberOf(17, pi5);
    expect(gpio).toBe(588);
    expect(chip.label).toBe('pinctrl-rp1');
  });

  it("takes the chip with the lowest base when no label is a Pi's", async () => {
    const { gpio, chip } = await numberOf(4, chips([300, 'gpio-mockup-B', 16], [100, 'gpio-mockup-A', 32], [200, 'ftdi-cbus', 4]));
    expect(gpio).toBe(104);
    expect(chip.label).toBe('gpio-mockup-A');
  });

  it('refuses a pin past the end of the chip', async () => {
    const err = await numberOf(60, chips([512, 'pinctrl-bcm2711', 58])).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('58 lines');
  });

  it('refuses when there are no gpiochips (not a Pi, or no sysfs GPIO)', async () => {
    const err = await numberOf(17, { 'class/leds/input0::capslock/trigger': 'none\n' }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'STATUS_LED_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('no GPIO chips');
  });
});
