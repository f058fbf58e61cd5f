import type { DeviceOverview } from '../session/device-overview.js';
import { runAdminQuery } from './admin-query.js';
import type { CommandIo } from './recordings-command.js';
import { DEFAULT_ADMIN_SOCKET } from './relay-files.js';
import { formatAge } from './sessions-table.js';
import { renderTable } from './text-table.js';

const usage = `Usage: lifeline-relay devices [--config relay.yaml | --socket PATH] [--user NAME] [--json]
Lists the relay's devices (with --user, only those that person may reach, by the rule logins use): online or offline and since when
(an enrolled agent not let in yet shows as pending until lifeline-relay approve, a revoked one as revoked); HEALTH (ok, offline, console down
with the agent's reason, check failed, unknown, waiting for approval, agent revoked); the console's kind (serial, telnet, ipmi-sol,
sim) and line settings as its agent reports them ("-" for agents that do not); the last loopback
health check (when, round-trip time); the agent's version and address. Text from agents is shown
with control characters escaped. Asks the running relay on its admin socket: adminSocket from
--config (without it ${DEFAULT_ADMIN_SOCKET}), or --socket.
`;

/** `lifeline-relay devices`: the device table (or `--json`). Exit codes as `sessions`. */
export function runDevices(args: string[], io: CommandIo & { now?: () => number }): Promise<number> {
  return runAdminQuery(
    { command: 'devices', usage, what: 'a list of devices', isAnswer: isDeviceList, render: formatDevicesTable, takesUser: true },
    args,
    io,
  );
}

export function formatDevicesTable(devices: readonly DeviceOverview[], now: number): string {
  if (devices.length === 0) return 'no devices configured\n';
  const age = (iso: string | undefined) => (iso === undefined ? '-' : formatAge(now - Date.parse(iso)));
  return renderTable([
    ['DEVICE', 'STATE', 'SINCE', 'CONSOLE', 'LINE', 'CHECKED', 'RTT', 'AGENT', 'FROM', 'HEALTH'],
    ...devices.map((d) => [
      d.deviceId,
      stateText(d),
      age(d.since),
      d.console?.kind ?? '-',
      d.console?.line ?? '-',
      d.lastCheck ? `${age(d.lastCheck.at)} ago` : '-',
      d.lastCheck?.rttMs !== undefined ? `${d.lastCheck.rttMs}ms` : '-',
      d.agentVersion ?? '-',
      d.peer ?? '-',
      healthText(d),
    ]),
  ]);
}

/** `online`, `offline`, or for an enrolled agent not allowed in: `pending` (approval) or `revoked`. */
function stateText(d: DeviceOverview): string {
  if (d.online) return 'online';
  return d.enrolment === 'pending' || d.enrolment === 'revoked' ? d.enrolment : 'offline';
}

/** `ok`, `offline`, `console down: serial port /dev/ttyUSB0 is not present`, `check failed: timeout`. */
function healthText(d: DeviceOverview): string {
  switch (d.health) {
    case 'pending-approval':
      return `waiting for approval: lifeline-relay approve ${d.deviceId}`;
    case 'revoked':
      return 'agent revoked: enrol it again with a new token';
    case 'console-down':
      return `console down: ${d.healthDetail ?? '?'}`;
    case 'check-failed':
      return `check failed: ${d.healthDetail ?? '?'}`;
    default:
      return d.health ?? '-';
  }
}

function isDeviceList(value: unknown): value is DeviceOverview[] {
  return (
    Array.isArray(value) &&
    value.every((d: unknown) => {
      const entry = d as Partial<Record<keyof DeviceOverview, unknown>> | null;
      return typeof entry === 'object' && entry !== null && typeof entry.deviceId === 'string' && typeof entry.online === 'boolean';
    })
  );
}
