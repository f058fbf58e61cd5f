import { FakeClock } from '@lifeline/shared/testing';
import { RecordingLedDriver } from '../testing/recording-led-driver.js';
import { describeLedDriverContract } from './led-driver.contract.js';

// The double the pattern tests read patterns off must behave as the real drivers do.
describeLedDriverContract('RecordingLedDriver', async () => {
  const driver = new RecordingLedDriver(new FakeClock());
  return { driver, lit: () => driver.lit, released: () => driver.closed };
});
