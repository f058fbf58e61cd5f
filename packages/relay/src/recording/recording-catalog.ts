import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readAsciicastSummary } from './asciicast.js';
import { RECORDING_EXTENSION, parseDayName, parseRecordingName } from './recording-layout.js';

/** One recording as `lifeline-relay recordings` lists it. */
export interface RecordingEntry {
  path: string;
  deviceId: string;
  user: string;
  /** First 8 characters of the session id. */
  sessionPrefix: string;
  startedAt: Date;
  /** Time of the last event, in seconds; undefined when the file cannot be read as asciicast. */
  durationSeconds: number | undefined;
  sizeBytes: number;
  title: string | undefined;
  /** Why the file could not be read, if it could not. */
  problem?: string;
}

export interface RecordingFilter {
  deviceId?: string;
  user?: string;
  /** Started on or after the start of this UTC day. */
  since?: Date;
  /** Started on or before the end of this UTC day (exclusive bound: the start of the next day). */
  untilExclusive?: Date;
}

async function list(dir: string, dirsOnly: boolean): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => (dirsOnly ? e.isDirectory() : e.isFile())).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

/**
 * Finds the recordings under `dir` that match `filter`, newest first. Who, what and when come
 * from the path (so filtering opens no file); duration and size from the file itself, reading
 * only its first and last lines. A file that is not valid asciicast is still listed, with
 * `problem` set. A missing `dir` lists nothing.
 */
export async function listRecordings(dir: string, filter: RecordingFilter = {}): Promise<RecordingEntry[]> {
  const entries: RecordingEntry[] = [];
  const devices = filter.deviceId ? [filter.deviceId] : await list(dir, true);
  for (const deviceId of devices) {
    for (const dayName of await list(join(dir, deviceId), true)) {
      const day = parseDayName(dayName);
      if (!day) continue;
      if (filter.since && day.getTime() + 86_400_000 <= filter.since.getTime()) continue;
      if (filter.untilExclusive && day.getTime() >= filter.untilExclusive.getTime()) continue;
      for (const name of await list(join(dir, deviceId, dayName), false)) {
        if (!name.endsWith(RECORDING_EXTENSION)) continue;
        const parsed = parseRecordingName(name);
        if (!parsed) continue;
        if (filter.user && parsed.user !== filter.user) continue;
        if (filter.since && parsed.startedAt < filter.since) continue;
        if (filter.untilExclusive && parsed.startedAt >= filter.untilExclusive) continue;
        entries.push(await describe(join(dir, deviceId, dayName, name), deviceId, parsed));
      }
    }
  }
  return entries.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.path.localeCompare(a.path));
}

async function describe(
  path: string,
  deviceId: string,
  parsed: NonNullable<ReturnType<typeof parseRecordingName>>,
): Promise<RecordingEntry> {
  const entry: RecordingEntry = { path, deviceId, ...parsed, durationSeconds: undefined, sizeBytes: 0, title: undefined };
  try {
    const summary = await readAsciicastSummary(path);
    entry.durationSeconds = summary.duration;
    entry.sizeBytes = summary.size;
    entry.title = typeof summary.header.title === 'string' ? summary.header.title : undefined;
  } catch (err) {
    entry.problem = (err as Error).message;
    entry.sizeBytes = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
  }
  return entry;
}
