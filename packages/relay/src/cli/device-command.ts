import { parseArgs } from 'node:util';
import { ExitCode, printable } from '@lifeline/shared';
import type { DeviceListing } from '../inventory/inventory-admin.js';
import { sendInventoryRequest, socketOptions } from './inventory-command.js';
import type { CommandIo } from './recordings-command.js';
import { DEFAULT_ADMIN_SOCKET } from './relay-files.js';
import { renderTable } from './text-table.js';

const usage = `Usage: lifeline-relay device ACTION [--config relay.yaml | --socket PATH] [--json]
  device add ID [--label KEY=VALUE]... [--description TEXT]
  device label ID KEY=VALUE|KEY=...   (KEY= removes that label)
  device remove ID                    (also forgets its enrolled agent and tokens)
  device list
Devices added here live in the relay's inventory store (not in relay.yaml) and apply at once.
Devices declared in relay.yaml are refused: edit relay.yaml for them. Talks to the running relay
on its admin socket: adminSocket from --config (without it ${DEFAULT_ADMIN_SOCKET}), or --socket.
For the live state of devices (online, health) see lifeline-relay devices.
`;

/** `lifeline-relay device ...`. Exit codes: 0 done, 1 refused or no relay, 64 bad usage, 78 bad config. */
export async function runDevice(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { ...socketOptions, label: { type: 'string', multiple: true }, description: { type: 'string' } },
    });
  } catch (err) {
    io.stderr.write(`device: ${(err as Error).message}\n\n${usage}`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(usage);
    return ExitCode.ok;
  }
  const [action, id, ...rest] = positionals;
  const bad = (problem: string) => {
    io.stderr.write(`device: ${problem}\n\n${usage}`);
    return ExitCode.usage;
  };
  if (action === undefined || !['add', 'label', 'remove', 'list'].includes(action)) return bad('give an action');
  if (action === 'list' ? id !== undefined : id === undefined)
    return bad(`device ${action} ${action === 'list' ? 'takes no id' : 'needs an id'}`);
  if (action !== 'label' && rest.length > 0) return bad(`unexpected argument "${rest[0]}"`);
  const send = (request: Record<string, unknown>, render?: (answer: unknown) => string) =>
    sendInventoryRequest('device', values, { command: 'device', action, ...request }, io, render);

  switch (action) {
    case 'list':
      return send({}, (answer) => formatDevices(answer as DeviceListing[]));
    case 'remove':
      return send({ id });
    case 'label': {
      const labels = labelPairs(rest, true);
      if (typeof labels === 'string') return bad(labels);
      if (Object.keys(labels).length === 0) return bad('device label needs KEY=VALUE (or KEY= to remove)');
      return send({ id, labels });
    }
    default: {
      const labels = labelPairs(values.label ?? [], false);
      if (typeof labels === 'string') return bad(labels);
      return send({ device: { id, labels, ...(values.description !== undefined ? { description: values.description } : {}) } });
    }
  }
}

/** `site=tokyo` pairs; `site=` (removal, null) only where allowed. A string is the problem. */
function labelPairs(pairs: string[], removals: boolean): Record<string, string | null> | string {
  const labels: Record<string, string | null> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return `"${pair}" is not KEY=VALUE`;
    const value = pair.slice(eq + 1);
    if (value === '' && !removals) return `"${pair}" has no value`;
    labels[pair.slice(0, eq)] = value === '' ? null : value;
  }
  return labels;
}

export function formatDevices(devices: readonly DeviceListing[]): string {
  if (devices.length === 0) return 'no devices\n';
  return renderTable([
    ['DEVICE', 'LABELS', 'AGENT', 'FROM', 'DESCRIPTION'],
    ...devices.map((d) => [
      printable(d.id),
      printable(
        Object.entries(d.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      ) || '-',
      d.agent ?? '-',
      d.source,
      printable(d.description ?? '') || '-',
    ]),
  ]);
}
