import { parseArgs } from 'node:util';
import { ExitCode, isConfigError, isLifelineError, loadConfigFile, relayConfigSchema, resolveFromConfig } from '@lifeline/shared';
import { adminRequest } from '../admin/admin-client.js';
import type { SessionSnapshot } from '../session/session-snapshot.js';
import { DEFAULT_RELAY_CONFIG, type CommandIo } from './recordings-command.js';
import { formatSessionsTable } from './sessions-table.js';

/** Where the command writes (main.ts passes process.stdout/stderr); `now` for tests. */
export interface SessionsCommandIo extends CommandIo {
  now?: () => number;
}

const usage = `Usage: lifeline-relay sessions [--config relay.yaml | --socket PATH] [--json]
Lists live console sessions of the running relay: device, writer, viewers, since when,
bytes typed in and sent out. Asks the relay on its admin socket: adminSocket from --config
(default ${DEFAULT_RELAY_CONFIG}), or --socket.
`;

/**
 * `lifeline-relay sessions`: asks a running relay for its live sessions and prints them as a
 * table (or, with `--json`, the JSON array). Returns the exit code: 0 listed (possibly none),
 * 1 no answer from the relay, 78 bad flags or config.
 */
export async function runSessions(args: string[], io: SessionsCommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        socket: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr.write(`sessions: ${(err as Error).message}\n\n${usage}`);
    return ExitCode.badConfig;
  }
  if (values.help) {
    io.stdout.write(usage);
    return ExitCode.ok;
  }
  if (values.config !== undefined && values.socket !== undefined) {
    io.stderr.write(`sessions: give --config or --socket, not both\n\n${usage}`);
    return ExitCode.badConfig;
  }

  let socketPath = values.socket;
  if (socketPath === undefined) {
    const file = values.config ?? DEFAULT_RELAY_CONFIG;
    try {
      socketPath = resolveFromConfig(file, (await loadConfigFile(file, relayConfigSchema)).adminSocket);
    } catch (err) {
      if (!isConfigError(err)) throw err;
      io.stderr.write(`sessions: ${(err as Error).message}\n`);
      return ExitCode.badConfig;
    }
  }

  let answer: unknown;
  try {
    answer = await adminRequest(socketPath, 'sessions');
  } catch (err) {
    if (!isLifelineError(err)) throw err;
    io.stderr.write(`sessions: ${err.message}\n`);
    return ExitCode.crash;
  }
  if (!isSnapshotList(answer)) {
    io.stderr.write('sessions: the relay answered with something else than a list of sessions (a different relay version?)\n');
    return ExitCode.crash;
  }
  if (values.json) io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else io.stdout.write(formatSessionsTable(answer, (io.now ?? Date.now)()));
  return ExitCode.ok;
}

function isSnapshotList(value: unknown): value is SessionSnapshot[] {
  return (
    Array.isArray(value) &&
    value.every((s: Partial<SessionSnapshot> | null) => {
      if (typeof s !== 'object' || s === null) return false;
      return (
        typeof s.deviceId === 'string' &&
        (s.writer === undefined || s.writer === null || typeof s.writer === 'string') &&
        Array.isArray(s.viewers) &&
        s.viewers.every((v) => typeof v === 'string') &&
        typeof s.since === 'string' &&
        typeof s.bytesIn === 'number' &&
        typeof s.bytesOut === 'number'
      );
    })
  );
}
