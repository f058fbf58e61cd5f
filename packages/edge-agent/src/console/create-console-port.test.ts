import { describe, expect, it } from 'vitest';
import { consoleSchema, silentLogger } from '@lifeline/shared';
import { createConsolePort } from './create-console-port.js';
import { IpmiSolConsolePort } from './ipmi/ipmi-sol-console-port.js';
import { SerialConsolePort } from './serial-console-port.js';
import { SimConsolePort } from './sim-console-port.js';
import { TelnetConsolePort } from './telnet-console-port.js';

const deps = { logger: silentLogger() };

describe('createConsolePort', () => {
  it('builds a serial port for a serial config', () => {
    const port = createConsolePort(consoleSchema.parse({ type: 'serial', path: '/dev/ttyUSB0' }), deps);
    expect(port).toBeInstanceOf(SerialConsolePort);
    expect(port.description).toBe('serial port /dev/ttyUSB0');
    expect(port.isOpen).toBe(false);
  });

  it('builds the simulated router, named by the default hostname', () => {
    const port = createConsolePort(consoleSchema.parse({ type: 'sim' }), deps);
    expect(port).toBeInstanceOf(SimConsolePort);
    expect(port.description).toBe('simulated router demo-router');
  });

  it('builds a Telnet port for a telnet config', () => {
    const port = createConsolePort(consoleSchema.parse({ type: 'telnet', host: '127.0.0.1', port: 2001 }), deps);
    expect(port).toBeInstanceOf(TelnetConsolePort);
  });

  it('builds an IPMI SOL port for an ipmi-sol config, opening nothing yet', () => {
    const port = createConsolePort(consoleSchema.parse({ type: 'ipmi-sol', host: '10.0.0.20', user: 'lifeline' }), deps);
    expect(port).toBeInstanceOf(IpmiSolConsolePort);
    expect(port.description).toBe('SOL console of BMC 10.0.0.20:623');
    expect(port.isOpen).toBe(false);
  });
});
