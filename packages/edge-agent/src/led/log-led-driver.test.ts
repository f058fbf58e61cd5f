import { describe, expect, it } from 'vitest';
import { capturingLogger, describeLedDriverContract } from './led-driver.contract.js';
import { LogLedDriver } from './log-led-driver.js';

/** The LED as the log tells it: the last `led` event, off before any. */
function litFromLog(lines: Array<Record<string, unknown>>): boolean {
  const last = lines.filter((l) => l.event === 'led').at(-1);
  return last?.on === true;
}

describeLedDriverContract('LogLedDriver', async () => {
  const { logger, lines } = capturingLogger();
  return { driver: new LogLedDriver(logger), lit: () => litFromLog(lines) };
});

describe('LogLedDriver', () => {
  it('logs each change once, at debug, and nothing for a repeated value', async () => {
    const { logger, lines } = capturingLogger();
    const driver = new LogLedDriver(logger);
    driver.set(true);
    driver.set(true);
    driver.set(false);
    await driver.close();
    expect(lines.filter((l) => l.event === 'led').map((l) => [l.on, l.level, l.component])).toEqual([
      [true, 20, 'status-led'],
      [false, 20, 'status-led'],
    ]);
  });
});
