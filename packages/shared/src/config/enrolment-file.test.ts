import { describe, expect, it } from 'vitest';
import { parseConfigText } from './config-parse.js';
import { enrolmentFileSchema, renderEnrolmentFile } from './enrolment-file.js';

const file = {
  relay: { host: 'relay.example.net', port: 443, hostKey: `SHA256:${'A'.repeat(43)}` },
  device: 'rtr-tokyo-01',
  token: '0123456789abcdef0123456789abcdef',
  console: '/dev/serial/by-id/usb-FTDI_FT232R-if00-port0',
};

describe('enrolment file', () => {
  // Without `status` the file has none: the reader fills in its default (no LED, no hook).
  const noStatus = { led: { type: 'none' } };

  it('reads back exactly what the relay wrote', () => {
    const text = renderEnrolmentFile(file);
    expect(text).toMatch(/^# lifeline enrolment file for rtr-tokyo-01/);
    expect(text).not.toContain('status');
    expect(parseConfigText('lifeline-enrol.yaml', text, enrolmentFileSchema)).toEqual({ ...file, status: noStatus });
    const withLed = { ...file, status: { led: { type: 'sysfs-led' as const, name: 'ACT' }, hook: '/usr/local/bin/notify' } };
    expect(parseConfigText('x.yaml', renderEnrolmentFile(withLed), enrolmentFileSchema)).toEqual(withLed);
  });

  it('leaves the console out when none is given', () => {
    const { console: _, ...noConsole } = file;
    const text = renderEnrolmentFile(noConsole);
    expect(text).not.toContain('console');
    expect(parseConfigText('x.yaml', text, enrolmentFileSchema)).toEqual({ ...noConsole, status: noStatus });
  });

  it('names the key of each problem in a damaged file', () => {
    const text = renderEnrolmentFile(file).replace(file.token, 'not-a-token').replace('SHA256:', 'MD5:');
    expect(() => parseConfigText('boot/lifeline-enrol.yaml', text, enrolmentFileSchema)).toThrow(
      /token[\s\S]*relay\.hostKey|relay\.hostKey[\s\S]*token/,
    );
  });
});
