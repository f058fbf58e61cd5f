import { parseArgs } from 'node:util';
import { ExitCode, isConfigError, isLifelineError } from '@lifeline/shared';
import { adminRequest } from '../admin/admin-client.js';
import type { ReloadSummary } from '../inventory/live-inventory.js';
import { adminSocketPath } from './admin-query.js';
import type { CommandIo } from './recordings-command.js';
import { DEFAULT_ADMIN_SOCKET } from './relay-files.js';

const usage = `Usage: lifeline-relay reload [--config relay.yaml | --socket PATH]
Makes the running relay read relay.yaml again (as SIGHUP does) and apply its users and devices
without disturbing anyone else. A file with a mistake is refused, each problem as
FILE: KEY: PROBLEM, and the relay keeps running as before. Keys that need a restart (listen,
hostKeyFile, ...) are named and left as they are. Asks the relay on its admin socket (adminSocket
from --config; without it ${DEFAULT_ADMIN_SOCKET}).
`;

/** `lifeline-relay reload`: 0 applied, 78 the relay refused the file, 1 no relay answered, 64 bad usage. */
export async function runReload(args: string[], io: CommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' }, socket: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.stderr.write(`reload: ${(err as Error).message}\n\n${usage}`);
    return ExitCode.usage;
  }
  if (values.help) {
    io.stdout.write(usage);
    return ExitCode.ok;
  }
  let socketPath: string;
  try {
    socketPath = await adminSocketPath(values);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    io.stderr.write(`reload: ${(err as Error).message}\n`);
    return ExitCode.badConfig;
  }
  let answer: unknown;
  try {
    answer = await adminRequest(socketPath, 'reload', 30_000);
  } catch (err) {
    if (!isLifelineError(err)) throw err;
    io.stderr.write(`reload: ${err.message}\n`);
    return isLifelineError(err, 'ADMIN_COMMAND_FAILED') ? ExitCode.badConfig : ExitCode.crash;
  }
  io.stdout.write(formatReload(answer as ReloadSummary));
  return ExitCode.ok;
}

/** `reloaded: users +carol -bob ~alice; devices +rtr-9; restart needed for: listen`. */
export function formatReload(summary: ReloadSummary): string {
  const part = (c: ReloadSummary['users']) =>
    [...c.added.map((n) => `+${n}`), ...c.removed.map((n) => `-${n}`), ...c.changed.map((n) => `~${n}`)].join(' ') || 'unchanged';
  const lines = [`reloaded: users ${part(summary.users)}; devices ${part(summary.devices)}`];
  for (const warning of summary.warnings ?? []) lines.push(`warning: ${warning}`);
  if (summary.restartNeeded?.length) lines.push(`not applied, needs a restart: ${summary.restartNeeded.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
