import type { SessionSnapshot } from '../session/session-snapshot.js';
import { formatBytes, renderTable } from './text-table.js';

export { formatBytes };

/** How long ago, compactly: "42s", "5m12s", "3h05m", "2d04h". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3_600) % 24)}h`;
}

/**
 * The `lifeline-relay sessions` table, one row per device with people attached, by device id.
 * IN is what the writer typed to the device, OUT what the device sent to people.
 */
export function formatSessionsTable(sessions: readonly SessionSnapshot[], now: number): string {
  if (sessions.length === 0) return 'no live sessions\n';
  // A relay group's answer names the member hosting each session: one more column.
  const group = sessions.some((s) => s.relay !== undefined);
  const rows = [
    ['DEVICE', 'WRITER', 'VIEWERS', 'SINCE', 'IN', 'OUT', ...(group ? ['RELAY'] : [])],
    ...[...sessions]
      .sort((a, b) => a.deviceId.localeCompare(b.deviceId) || (a.relay ?? '').localeCompare(b.relay ?? ''))
      .map((s) => [
        s.deviceId,
        s.writer ?? '-',
        s.viewers.length > 0 ? s.viewers.join(',') : '-',
        formatAge(now - Date.parse(s.since)),
        formatBytes(s.bytesIn),
        formatBytes(s.bytesOut),
        ...(group ? [s.relay ?? '-'] : []),
      ]),
  ];
  return renderTable(rows);
}
