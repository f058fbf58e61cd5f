import type { SessionSnapshot } from '../session/session-snapshot.js';
import { runAdminQuery } from './admin-query.js';
import type { CommandIo } from './recordings-command.js';
import { DEFAULT_ADMIN_SOCKET } from './relay-files.js';
import { formatSessionsTable } from './sessions-table.js';

/** Where the command writes (main.ts passes process.stdout/stderr); `now` for tests. */
export interface SessionsCommandIo extends CommandIo {
  now?: () => number;
}

const usage = `Usage: lifeline-relay sessions [--config relay.yaml | --socket PATH] [--json]
Lists live console sessions of the running relay: device, writer, viewers, since when,
bytes typed in and sent out; on a member of a relay group, the whole group's, with the
member hosting each (RELAY). Asks the relay on its admin socket: adminSocket from --config
(without it ${DEFAULT_ADMIN_SOCKET}), or --socket.
`;

/**
 * `lifeline-relay sessions`: asks a running relay for its live sessions and prints them as a
 * table (or, with `--json`, the JSON array). Returns the exit code: 0 listed (possibly none),
 * 1 no answer from the relay, 78 bad flags or config.
 */
export function runSessions(args: string[], io: SessionsCommandIo): Promise<number> {
  return runAdminQuery(
    { command: 'sessions', usage, what: 'a list of sessions', isAnswer: isSnapshotList, render: formatSessionsTable },
    args,
    io,
  );
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
        typeof s.bytesOut === 'number' &&
        (s.relay === undefined || typeof s.relay === 'string')
      );
    })
  );
}
