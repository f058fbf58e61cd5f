import type { Clock, ConsoleConfig, Logger } from '@lifeline/shared/core';
import type { ConsolePort } from './console-port.js';
import { IpmiSolConsolePort } from './ipmi/ipmi-sol-console-port.js';
import { SerialConsolePort } from './serial-console-port.js';
import { SimConsolePort } from './sim-console-port.js';
import { TelnetConsolePort } from './telnet-console-port.js';

export interface ConsolePortDeps {
  logger: Logger;
  clock?: Clock;
}

/** The ConsolePort a (checked, defaulted) console config describes. Opens nothing yet. */
export function createConsolePort(config: ConsoleConfig, deps: ConsolePortDeps): ConsolePort {
  switch (config.type) {
    case 'serial':
      return new SerialConsolePort(config, { logger: deps.logger });
    case 'telnet':
      return new TelnetConsolePort(config, deps);
    case 'sim':
      return new SimConsolePort(config, deps);
    case 'ipmi-sol':
      return new IpmiSolConsolePort(config, deps);
  }
}
