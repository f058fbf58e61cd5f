import { describe, expect, it } from 'vitest';
import type { DeviceOverview } from '../session/device-overview.js';
import { formatDevicesTable } from './devices-command.js';

const now = Date.parse('2026-12-03T12:00:00.000Z');
const base: DeviceOverview = {
  deviceId: 'rtr-tokyo-01',
  online: true,
  since: '2026-12-03T11:00:00.000Z',
  peer: '198.51.100.7:40512',
  agentVersion: 'lifelineAgent_0.2.0',
  lastCheck: { at: '2026-12-03T11:59:30.000Z', ok: true, rttMs: 41 },
  health: 'ok',
  console: { state: 'up', kind: 'serial', line: '9600 8N1', power: false },
};

describe('lifeline-relay devices table', () => {
  it('shows console kind, line settings and HEALTH next to the tunnel', () => {
    const table = formatDevicesTable([base], now);
    expect(table.split('\n')[0]).toMatch(/^DEVICE\s+STATE\s+SINCE\s+CONSOLE\s+LINE\s+CHECKED\s+RTT\s+AGENT\s+FROM\s+HEALTH$/);
    expect(table).toMatch(
      /rtr-tokyo-01\s+online\s+\S+\s+serial\s+9600 8N1\s+\S+ ago\s+41ms\s+lifelineAgent_0\.2\.0\s+198\.51\.100\.7:40512\s+ok\n/,
    );
  });

  it('says why a Pi whose USB adapter is unplugged is not ok', () => {
    const table = formatDevicesTable(
      [
        {
          ...base,
          health: 'console-down',
          healthDetail: 'serial port /dev/ttyUSB0 is not present; retrying every 5 s',
          console: { state: 'down', kind: 'serial', line: '9600 8N1' },
        },
      ],
      now,
    );
    expect(table).toMatch(/console down: serial port \/dev\/ttyUSB0 is not present; retrying every 5 s\n$/);
    expect(table).not.toMatch(/\sok\n/);
  });

  it('shows "-" for an agent that does not report its console kind and line', () => {
    const table = formatDevicesTable([{ ...base, console: { state: 'up' } }], now);
    expect(table).toMatch(/rtr-tokyo-01\s+online\s+\S+\s+-\s+-\s+/);
  });

  it('shows offline devices as offline', () => {
    const table = formatDevicesTable([{ ...base, online: false, health: 'offline', lastCheck: undefined }], now);
    expect(table).toMatch(/rtr-tokyo-01\s+offline\s.*offline\n$/);
  });

  it("never writes an agent's control characters raw to the terminal", () => {
    const table = formatDevicesTable(
      [
        {
          ...base,
          agentVersion: 'evil\x1b]0;pwned\x07',
          health: 'console-down',
          healthDetail: 'gone\x1b[2J',
          console: { state: 'down', kind: 'ser\x1bial' },
        },
      ],
      now,
    );
    expect(table).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(table).toContain('evil\\x1b]0;pwned\\x07');
    expect(table).toContain('console down: gone\\x1b[2J');
  });

  it('shows an enrolled agent waiting for approval as pending, with the command that lets it in', () => {
    const pending: DeviceOverview = {
      ...base,
      online: false,
      since: undefined,
      enrolment: 'pending',
      health: 'pending-approval',
      console: undefined,
    };
    const table = formatDevicesTable([pending], now);
    expect(table).toMatch(/rtr-tokyo-01\s+pending\s.*waiting for approval: lifeline-relay approve rtr-tokyo-01\n$/);
  });

  it('shows a revoked agent as revoked, not merely offline', () => {
    const table = formatDevicesTable([{ ...base, online: false, enrolment: 'revoked', health: 'revoked' }], now);
    expect(table).toMatch(/rtr-tokyo-01\s+revoked\s.*agent revoked: enrol it again with a new token\n$/);
    expect(table).not.toMatch(/\soffline\s/);
  });
});
