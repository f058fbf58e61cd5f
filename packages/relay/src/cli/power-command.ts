import { parseArgs } from 'node:util';
import { ExitCode, PowerActions, isConfigError, isDestructivePower, isLifelineError, isPowerAction } from '@lifeline/shared';
import { adminRequest } from '../admin/admin-client.js';
import { adminSocketPath } from './admin-query.js';
import { osCaller } from './os-caller.js';
import type { CommandIo } from './recordings-command.js';
import { DEFAULT_ADMIN_SOCKET } from './relay-files.js';

const usage = `Usage: lifeline-relay power DEVICE ${PowerActions.join('|')} [--yes] [--config relay.yaml | --socket PATH]
Queries or changes a device's power through its BMC (IPMI consoles), via the running relay's
admin socket (adminSocket from --config; without it ${DEFAULT_ADMIN_SOCKET}). off is a hard power
off, soft an ACPI shutdown. Actions other than status and on need --yes. The audit log and
the recordings name the operating-system user who ran it, e.g. os:root (sudo by alice).
`;

/** `lifeline-relay power DEVICE ACTION`: exit 0 with the BMC's answer, 1 if it failed, 64 for bad usage, 78 bad config. */
export async function runPower(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        socket: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.stderr.write(`power: ${(err as Error).message}\n\n${usage}`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(usage);
    return ExitCode.ok;
  }
  const [device, action] = positionals;
  if (device === undefined || action === undefined || positionals.length > 2 || !isPowerAction(action)) {
    io.stderr.write(`power: give a device and one of ${PowerActions.join(', ')}\n\n${usage}`);
    return ExitCode.usage;
  }
  if (isDestructivePower(action) && !values.yes) {
    io.stderr.write(`power: "${action}" changes the state of ${device}; add --yes to do it\n`);
    return ExitCode.usage;
  }
  let socketPath: string;
  try {
    socketPath = await adminSocketPath(values);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    io.stderr.write(`power: ${(err as Error).message}\n`);
    return ExitCode.badConfig;
  }
  try {
    const answer = await adminRequest(socketPath, { command: 'power', device, action, by: osCaller() }, 35_000);
    io.stdout.write(`${device}: ${String(answer)}\n`);
    return ExitCode.ok;
  } catch (err) {
    if (!isLifelineError(err)) throw err;
    io.stderr.write(`power: ${err.message}\n`);
    return ExitCode.crash;
  }
}
