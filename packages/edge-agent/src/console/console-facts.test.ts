import { describe, expect, it } from 'vitest';
import { consoleSchema } from '@lifeline/shared';
import { consoleFacts } from './console-facts.js';

describe('consoleFacts', () => {
  it('gives a serial console its kind and line settings, no power', () => {
    expect(consoleFacts(consoleSchema.parse({ type: 'serial', path: '/dev/ttyUSB0' }))).toEqual({
      kind: 'serial',
      line: '9600 8N1',
      power: false,
    });
    expect(
      consoleFacts(consoleSchema.parse({ type: 'serial', path: '/dev/ttyS0', baudRate: 115200, parity: 'even', dataBits: 7 })),
    ).toEqual({
      kind: 'serial',
      line: '115200 7E1',
      power: false,
    });
  });

  it('gives an IPMI SOL console power control and no line settings', () => {
    expect(consoleFacts(consoleSchema.parse({ type: 'ipmi-sol', host: 'bmc', user: 'admin' }))).toEqual({ kind: 'ipmi-sol', power: true });
  });

  it('gives a telnet console the rate it asks for, when it asks for one', () => {
    expect(consoleFacts(consoleSchema.parse({ type: 'telnet', host: 'ts', port: 2001 }))).toEqual({ kind: 'telnet', power: false });
    expect(consoleFacts(consoleSchema.parse({ type: 'telnet', host: 'ts', port: 2001, baudRate: 9600 }))).toEqual({
      kind: 'telnet',
      line: '9600',
      power: false,
    });
  });
});
