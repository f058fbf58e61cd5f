import { readdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readAsciicastSummary } from './asciicast.js';
import { RECORDING_EXTENSION, parseDayName, parseRecordingName } from './recording-layout.js';

const DAY_MS = 86_400_000;

export interface PruneResult {
  /** Recordings deleted. */
  removed: string[];
  /** Empty date folders deleted. */
  removedDirs: string[];
  /** What could not be deleted or dated (left in place), for the caller to log. */
  failed: Array<{ path: string; error: Error }>;
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** When a recording started: from its name, else from its header; undefined if neither says. */
async function startOf(path: string, name: string): Promise<number | undefined> {
  const parsed = parseRecordingName(name);
  if (parsed) return parsed.startedAt.getTime();
  const { header } = await readAsciicastSummary(path);
  return typeof header.timestamp === 'number' ? header.timestamp * 1000 : undefined;
}

/**
 * Deletes recordings that started more than `retentionDays` days before `now`, dated by the
 * time in their name (or, failing that, their header), never by mtime, which a backup restore or
 * a `touch` changes. Then deletes date folders left empty whose day is past the cut-off (never
 * today's, which a new session may be writing into). `retentionDays` 0 keeps everything. Only
 * `<dir>/<device>/<YYYY-MM-DD>/*.cast` is touched; other files are left alone. A missing `dir`
 * is nothing to prune. Per-file failures are collected in `failed`, not thrown; an unreadable
 * `dir` throws.
 */
export async function pruneRecordings(dir: string, retentionDays: number, now: Date = new Date()): Promise<PruneResult> {
  const result: PruneResult = { removed: [], removedDirs: [], failed: [] };
  if (!(retentionDays > 0)) return result;
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  for (const device of await subdirs(dir)) {
    const deviceDir = join(dir, device);
    for (const dayName of await subdirs(deviceDir).catch(() => [])) {
      const day = parseDayName(dayName);
      // Everything in a date folder started on that day: a day after the cut-off holds nothing to prune.
      if (!day || day.getTime() >= cutoff) continue;
      const dayDir = join(deviceDir, dayName);
      let names: string[];
      try {
        names = await readdir(dayDir);
      } catch (err) {
        result.failed.push({ path: dayDir, error: err as Error });
        continue;
      }
      let left = names.length;
      for (const name of names.filter((n) => n.endsWith(RECORDING_EXTENSION))) {
        const path = join(dayDir, name);
        try {
          const started = await startOf(path, name);
          if (started === undefined || started >= cutoff) continue;
          await unlink(path);
          result.removed.push(path);
          left--;
        } catch (err) {
          result.failed.push({ path, error: err as Error });
        }
      }
      if (left === 0 && day.getTime() + DAY_MS <= cutoff) {
        try {
          await rmdir(dayDir);
          result.removedDirs.push(dayDir);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'ENOENT') result.failed.push({ path: dayDir, error: err as Error });
        }
      }
    }
  }
  return result;
}
