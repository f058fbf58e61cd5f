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

import { askRelay } from './admin-query.js';
import { DEFAULT_RECORDINGS_DIR, relaySetup } from './relay-files.js';

const usage = `Usage: lifeline-relay recordings [--config relay.yaml | --dir DIR] [--device D] [--user U]
                                 [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json]
Lists session recordings, newest first. Dates are UTC days, both ends included.
The folder is recordingsDir from --config (without it ${DEFAULT_RECORDINGS_DIR}), or --dir.
On a member of a relay group (--config with group), the whole group's recordings from its
index, asked of the running relay, with the member whose disk holds each (RELAY); replay a
file on that member.
`;

/** A recording as a group member's index lists it: which member holds the file. */
interface GroupEntry extends Omit<RecordingEntry, 'startedAt' | 'sizeBytes' | 'title'> {
  relay: string;
  startedAt: string;
  sizeBytes: number | undefined;
}

function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '?';
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** One line per recording; with `relay` (a group's index), the member holding the file. */
function table(
  entries: Array<{
    startedAt: Date;
    deviceId: string;
    user: string;
    durationSeconds: number | undefined;
    sizeBytes: number | undefined;
    path: string;
    relay?: string;
  }>,
): string {
  const group = entries.some((e) => e.relay !== undefined);
  const rows = [
    ['STARTED (UTC)', 'DEVICE', 'USER', 'DURATION', 'SIZE', ...(group ? ['RELAY'] : []), 'PATH'],
    ...entries.map((e) => [
      e.startedAt.toISOString().slice(0, 19).replace('T', ' '),
      e.deviceId,
      e.user,
      duration(e.durationSeconds),
      e.sizeBytes === undefined ? '?' : formatBytes(e.sizeBytes),
      ...(group ? [e.relay ?? '-'] : []),
      e.path,
    ]),
  ];
  return renderTable(rows);
}

function isGroupList(value: unknown): value is GroupEntry[] {
  return (
    Array.isArray(value) &&
    value.every(
      (e: Partial<GroupEntry> | null) =>
        typeof e === 'object' &&
        e !== null &&
        typeof e.relay === 'string' &&
        typeof e.path === 'string' &&
        typeof e.deviceId === 'string' &&
        typeof e.user === 'string' &&
        typeof e.startedAt === 'string',
    )
  );
}

async function recordingsSetup(values: { config?: string; dir?: string }): Promise<{ dir: string; inGroup: boolean }> {
  if (values.dir) return { dir: values.dir, inGroup: false };
  const { paths, inGroup } = await relaySetup(values.config);
  return { dir: paths.recordingsDir, inGroup };
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

  let setup: { dir: string; inGroup: boolean };
  try {
    setup = await recordingsSetup(values);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    io.stderr.write(`recordings: ${(err as Error).message}\n`);
    return ExitCode.badConfig;
  }
  const { dir } = setup;
  if (setup.inGroup) {
    const request = {
      command: 'recordings',
      ...(filter.deviceId ? { deviceId: filter.deviceId } : {}),
      ...(filter.user ? { user: filter.user } : {}),
      ...(filter.since ? { since: filter.since.toISOString() } : {}),
      ...(filter.untilExclusive ? { until: filter.untilExclusive.toISOString() } : {}),
    };
    const asked = await askRelay('recordings', { config: values.config }, request, io);
    if (asked.ok && isGroupList(asked.answer)) return printGroup(asked.answer, values.json === true, io);
    io.stderr.write(`recordings: the group's index needs the running relay; listing this relay's ${dir} only\n`);
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

function printGroup(entries: GroupEntry[], json: boolean, io: CommandIo): number {
  if (json) io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
  else if (entries.length === 0) io.stderr.write("recordings: none found in the group's index\n");
  else io.stdout.write(table(entries.map((e) => ({ ...e, startedAt: new Date(e.startedAt) }))));
  return ExitCode.ok;
}
