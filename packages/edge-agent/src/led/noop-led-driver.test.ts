import { describeLedDriverContract } from './led-driver.contract.js';
import { NoopLedDriver } from './noop-led-driver.js';

describeLedDriverContract('NoopLedDriver', async () => ({ driver: new NoopLedDriver() }));
