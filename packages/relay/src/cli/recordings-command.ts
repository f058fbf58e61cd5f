import { parseArgs } from 'node:util';
import { ExitCode, isConfigError } from '@lifeline/shared';
import { listRecordings, type RecordingEntry, type RecordingFilter } from '../recording/recording-catalog.js';
import { parseDayName } from '../recording/recording-layout.js';
import { formatBytes, renderTable } from './text-table.js';

/** Where a CLI command writes; main.ts passes process.stdout and process.stderr. */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

import { DEFAULT_RECORDINGS_DIR, relayFiles } from './relay-files.js';

const usage = `Usage: lifeline-relay recordings [--config relay.yaml | --dir DIR] [--device D] [--user U]
                                 [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json]
Lists session recordings, newest first. Dates are UTC days, both ends included.
The folder is recordingsDir from --config (without it ${DEFAULT_RECORDINGS_DIR}), or --dir.
`;

function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '?';
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function table(entries: RecordingEntry[]): string {
  const rows = [
    ['STARTED (UTC)', 'DEVICE', 'USER', 'DURATION', 'SIZE', 'PATH'],
    ...entries.map((e) => [
      e.startedAt.toISOString().slice(0, 19).replace('T', ' '),
      e.deviceId,
      e.user,
      duration(e.durationSeconds),
      formatBytes(e.sizeBytes),
      e.path,
    ]),
  ];
  return renderTable(rows);
}

async function recordingsDir(values: { config?: string; dir?: string }): Promise<string> {
  if (values.dir) return values.dir;
  return (await relayFiles(values.config)).recordingsDir;
}

/**
 * `lifeline-relay recordings`: lists recordings (time, device, user, duration, size, path),
 * newest first, as a table or, with `--json`, a JSON array. Returns the exit code: 0 listed
 * (possibly nothing), 64 bad flags, 78 bad config.
 */
export async function runRecordings(args: string[], io: CommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        dir: { type: 'string' },
        device: { type: 'string' },
        user: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr.write(`recordings: ${(err as Error).message}\n\n${usage}`);
    return ExitCode.usage;
  }
  if (values.help) {
    io.stdout.write(usage);
    return ExitCode.ok;
  }
  const filter: RecordingFilter = {};
  if (values.device) filter.deviceId = values.device;
  if (values.user) filter.user = values.user;
  for (const key of ['since', 'until'] as const) {
    const text = values[key];
    if (text === undefined) continue;
    const day = parseDayName(text);
    if (!day) {
      io.stderr.write(`recordings: --${key} wants a date as YYYY-MM-DD, not "${text}"\n`);
      return ExitCode.usage;
    }
    if (key === 'since') filter.since = day;
    else filter.untilExclusive = new Date(day.getTime() + 86_400_000);
  }

  let dir: string;
  try {
    dir = await recordingsDir(values);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    io.stderr.write(`recordings: ${(err as Error).message}\n`);
    return ExitCode.badConfig;
  }
  const entries = await listRecordings(dir, filter);
  for (const e of entries) if (e.problem) io.stderr.write(`recordings: ${e.path}: ${e.problem}\n`);
  if (values.json) {
    const json = entries.map((e) => ({
      startedAt: e.startedAt.toISOString(),
      deviceId: e.deviceId,
      user: e.user,
      sessionPrefix: e.sessionPrefix,
      durationSeconds: e.durationSeconds ?? null,
      sizeBytes: e.sizeBytes,
      title: e.title ?? null,
      path: e.path,
    }));
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else if (entries.length === 0) {
    io.stderr.write(`recordings: none found in ${dir}\n`);
  } else {
    io.stdout.write(table(entries));
  }
  return ExitCode.ok;
}
