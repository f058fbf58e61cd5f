import type { DeviceStatus } from '../tunnel/agent-registry.js';
import { runAdminQuery } from './admin-query.js';
import type { CommandIo } from './recordings-command.js';
import { DEFAULT_ADMIN_SOCKET } from './relay-files.js';
import { formatAge } from './sessions-table.js';
import { renderTable } from './text-table.js';

const usage = `Usage: lifeline-relay devices [--config relay.yaml | --socket PATH] [--json]
Lists the relay's devices: online or offline and since when, the last loopback health check
(when, result, round-trip time), the agent's version and address. Asks the running relay on its
admin socket: adminSocket from --config (without it ${DEFAULT_ADMIN_SOCKET}), or --socket.
`;

/** `lifeline-relay devices`: the device table (or `--json`). Exit codes as `sessions`. */
export function runDevices(args: string[], io: CommandIo & { now?: () => number }): Promise<number> {
  return runAdminQuery({ command: 'devices', usage, what: 'a list of devices', isAnswer: isDeviceList, render: formatDevicesTable }, args, io);
}

export function formatDevicesTable(devices: readonly DeviceStatus[], now: number): string {
  if (devices.length === 0) return 'no devices configured\n';
  const age = (iso: string | undefined) => (iso === undefined ? '-' : formatAge(now - Date.parse(iso)));
  return renderTable([
    ['DEVICE', 'STATE', 'SINCE', 'CHECKED', 'CHECK', 'RTT', 'AGENT', 'FROM'],
    ...devices.map((d) => [
      d.deviceId,
      d.online ? 'online' : 'offline',
      age(d.since),
      d.lastCheck ? `${age(d.lastCheck.at)} ago` : '-',
      d.lastCheck ? (d.lastCheck.ok ? 'ok' : `FAILED: ${d.lastCheck.error ?? '?'}`) : '-',
      d.lastCheck?.rttMs !== undefined ? `${d.lastCheck.rttMs}ms` : '-',
      d.agentVersion ?? '-',
      d.peer ?? '-',
    ]),
  ]);
}

function isDeviceList(value: unknown): value is DeviceStatus[] {
  return Array.isArray(value) && value.every((d) => typeof d === 'object' && d !== null && typeof d.deviceId === 'string' && typeof d.online === 'boolean');
}
