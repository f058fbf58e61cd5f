import { describe, expect, it } from 'vitest';
import type { SessionSnapshot } from '../session/session-snapshot.js';
import { formatAge, formatBytes, formatSessionsTable } from './sessions-table.js';

const NOW = Date.parse('2026-11-21T03:00:00.000Z');

function snapshot(over: Partial<SessionSnapshot>): SessionSnapshot {
  return { deviceId: 'r1', writer: 'alice', viewers: [], since: '2026-11-21T02:54:48.000Z', bytesIn: 0, bytesOut: 0, ...over };
}

describe('sessions table', () => {
  it('formats ages compactly', () => {
    expect([0, 42_000, 60_000, 312_000, 3_599_000, 3_600_000, 11_100_000, 86_400_000, 187_200_000].map(formatAge)).toEqual([
      '0s',
      '42s',
      '1m00s',
      '5m12s',
      '59m59s',
      '1h00m',
      '3h05m',
      '1d00h',
      '2d04h',
    ]);
  });

  it('shows a start in the future (clock skew) as 0s and a bad date as ?', () => {
    expect(formatAge(-5_000)).toBe('0s');
    expect(formatAge(Number.NaN)).toBe('?');
  });

  it('formats bytes for people', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024, 5 * 1024 * 1024 + 400_000, 3 * 1024 ** 4 * 1024].map(formatBytes)).toEqual([
      '0B',
      '1023B',
      '1.0K',
      '1.5K',
      '10K',
      '5.4M',
      '3072T',
    ]);
  });

  it('lists one row per device, by device id, in aligned columns', () => {
    const table = formatSessionsTable(
      [
        snapshot({ deviceId: 'rtr-tokyo-01', writer: 'alice', viewers: ['bob', 'carol'], bytesIn: 120, bytesOut: 48_000 }),
        snapshot({ deviceId: 'fw-01', writer: undefined, viewers: ['dave'], since: '2026-11-21T00:00:00.000Z', bytesOut: 5 }),
      ],
      NOW,
    );
    expect(table).toBe(
      [
        'DEVICE        WRITER  VIEWERS    SINCE  IN    OUT',
        'fw-01         -       dave       3h00m  0B    5B',
        'rtr-tokyo-01  alice   bob,carol  5m12s  120B  47K',
        '',
      ].join('\n'),
    );
  });

  it("in a relay group, names the member hosting each session, a device's sessions on several members together", () => {
    const table = formatSessionsTable(
      [
        snapshot({ deviceId: 'rtr-02', relay: '10.0.0.2:443' }),
        snapshot({ deviceId: 'rtr-01', writer: undefined, viewers: ['bob'], relay: '10.0.0.3:443' }),
        snapshot({ deviceId: 'rtr-01', relay: '10.0.0.1:443' }),
      ],
      NOW,
    );
    expect(table).toBe(
      [
        'DEVICE  WRITER  VIEWERS  SINCE  IN  OUT  RELAY',
        'rtr-01  alice   -        5m12s  0B  0B   10.0.0.1:443',
        'rtr-01  -       bob      5m12s  0B  0B   10.0.0.3:443',
        'rtr-02  alice   -        5m12s  0B  0B   10.0.0.2:443',
        '',
      ].join('\n'),
    );
  });

  it('says so when nobody is attached anywhere', () => {
    expect(formatSessionsTable([], NOW)).toBe('no live sessions\n');
  });
});
