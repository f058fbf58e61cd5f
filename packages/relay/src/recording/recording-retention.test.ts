import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventLine, headerLine } from './asciicast.js';
import { recordingPath } from './recording-layout.js';
import { pruneRecordings } from './recording-retention.js';

const NOW = new Date('2025-06-30T12:00:00Z');
const DAY = 86_400_000;

describe('pruneRecordings', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-prune-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A recording that started `daysAgo` days before NOW, with a fresh mtime (as after a restore). */
  async function recording(deviceId: string, daysAgo: number, user = 'alice'): Promise<string> {
    const startedAt = new Date(NOW.getTime() - daysAgo * DAY);
    const path = recordingPath(dir, { deviceId, user, sessionId: `${Math.round(daysAgo * 1000)}`.padStart(8, '0'), startedAt });
    await mkdir(dirname(path), { recursive: true });
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    await writeFile(path, headerLine({ version: 2, width: 80, height: 24, timestamp }) + eventLine(1, 'o', 'x'));
    await utimes(path, NOW, NOW);
    return path;
  }

  async function remaining(): Promise<string[]> {
    const files = await readdir(dir, { recursive: true });
    return files.map(String).sort();
  }

  it('deletes recordings older than the retention by the time in their name, not their mtime', async () => {
    const old = await recording('rtr-1', 31);
    const edge = await recording('rtr-1', 29.9);
    const fresh = await recording('sw-2', 0.1);
    const result = await pruneRecordings(dir, 30, NOW);
    expect(result.removed).toEqual([old]);
    expect(result.failed).toEqual([]);
    const left = await remaining();
    expect(left).toContain(edge.slice(dir.length + 1));
    expect(left).toContain(fresh.slice(dir.length + 1));
    expect(left.some((p) => p.endsWith('.cast') && old.endsWith(p))).toBe(false);
  });

  it('removes date folders it leaves empty, but keeps device folders and recent days', async () => {
    const old = await recording('rtr-1', 40);
    await mkdir(join(dir, 'rtr-1', '2025-06-30'), { recursive: true });
    const result = await pruneRecordings(dir, 30, NOW);
    expect(result.removed).toEqual([old]);
    expect(result.removedDirs).toEqual([dirname(old)]);
    expect(await remaining()).toEqual(['rtr-1', join('rtr-1', '2025-06-30')]);
  });

  it('dates a renamed recording by its header', async () => {
    const old = await recording('rtr-1', 45);
    const renamed = join(dirname(old), 'kept-by-hand.cast');
    await rm(renamed, { force: true });
    await writeFile(renamed, headerLine({ version: 2, width: 80, height: 24, timestamp: Math.floor((NOW.getTime() - 45 * DAY) / 1000) }));
    await rm(old);
    const result = await pruneRecordings(dir, 30, NOW);
    expect(result.removed).toEqual([renamed]);
  });

  it('leaves files that are not recordings, and the folders holding them, alone', async () => {
    const old = await recording('rtr-1', 60);
    const notes = join(dirname(old), 'incident-notes.txt');
    await writeFile(notes, 'keep');
    const result = await pruneRecordings(dir, 30, NOW);
    expect(result.removed).toEqual([old]);
    expect(result.removedDirs).toEqual([]);
    expect(await remaining()).toContain(notes.slice(dir.length + 1));
  });

  it('keeps everything when retentionDays is 0', async () => {
    await recording('rtr-1', 3650);
    const result = await pruneRecordings(dir, 0, NOW);
    expect(result.removed).toEqual([]);
    expect(await remaining()).toHaveLength(3);
  });

  it('finds nothing to prune in a folder that does not exist yet', async () => {
    await expect(pruneRecordings(join(dir, 'missing'), 30, NOW)).resolves.toEqual({ removed: [], removedDirs: [], failed: [] });
  });

  it('reports a recording it cannot date instead of deleting it or throwing', async () => {
    const dayDir = join(dir, 'rtr-1', '2020-01-01');
    await mkdir(dayDir, { recursive: true });
    await writeFile(join(dayDir, 'garbage.cast'), 'not asciicast');
    const result = await pruneRecordings(dir, 30, NOW);
    expect(result.removed).toEqual([]);
    expect(result.failed.map((f) => f.path)).toEqual([join(dayDir, 'garbage.cast')]);
    expect(await remaining()).toContain(join('rtr-1', '2020-01-01', 'garbage.cast'));
  });
});
