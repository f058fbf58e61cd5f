import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLifelineError } from '@lifeline/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventLine, headerLine, readAsciicast, readAsciicastSummary } from './asciicast.js';
import { parseRecordingName, recordingPath } from './recording-layout.js';

const header = headerLine({ version: 2, width: 80, height: 24, timestamp: 1_700_000_000, title: 'bob on sw-1' });

describe('readAsciicast', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-cast-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(text: string | Buffer): Promise<string> {
    const path = join(dir, 'x.cast');
    await writeFile(path, text);
    return path;
  }

  it('reads the header and every event', async () => {
    const path = await file(header + eventLine(0.25, 'o', 'hi\r\n') + eventLine(1, 'm', 'BREAK') + eventLine(1.0000004, 'r', '100x30'));
    const cast = await readAsciicast(path);
    expect(cast.header).toMatchObject({ version: 2, width: 80, height: 24, title: 'bob on sw-1' });
    expect(cast.events).toEqual([
      [0.25, 'o', 'hi\r\n'],
      [1, 'm', 'BREAK'],
      [1, 'r', '100x30'],
    ]);
    expect(cast.truncated).toBe(false);
  });

  it('drops a last line cut short and says so', async () => {
    const path = await file(`${header}${eventLine(1, 'o', 'whole')}[2.5, "o", "half a li`);
    const cast = await readAsciicast(path);
    expect(cast.events).toEqual([[1, 'o', 'whole']]);
    expect(cast.truncated).toBe(true);
  });

  it('ignores the zero bytes a power loss can leave at the end', async () => {
    const path = await file(Buffer.concat([Buffer.from(header + eventLine(1, 'o', 'x')), Buffer.alloc(4096)]));
    const cast = await readAsciicast(path);
    expect(cast.events).toEqual([[1, 'o', 'x']]);
  });

  it('refuses a bad line that is not the last', async () => {
    const path = await file(`${header}[1, "o", "a"]\nnot json\n${eventLine(2, 'o', 'b')}`);
    const err = await readAsciicast(path).catch((e: unknown) => e);
    expect(isLifelineError(err, 'RECORDING_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/x\.cast:3:/);
  });

  it('refuses a file that is not asciicast v2', async () => {
    for (const text of ['{"version": 1, "width": 80}\n', 'hello\n', '']) {
      const err = await readAsciicast(await file(text)).catch((e: unknown) => e);
      expect(isLifelineError(err, 'RECORDING_INVALID')).toBe(true);
    }
  });
});

describe('readAsciicastSummary', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-cast-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the time of the last whole event of a file larger than its read window', async () => {
    const path = join(dir, 'big.cast');
    const events = Array.from({ length: 3000 }, (_, i) => eventLine(i / 10, 'o', `line ${i} ${'x'.repeat(40)}\r\n`));
    await writeFile(path, `${header}${events.join('')}[999, "o", "cut`);
    const summary = await readAsciicastSummary(path);
    expect(summary.duration).toBe(299.9);
    expect(summary.header.title).toBe('bob on sw-1');
    expect(summary.size).toBeGreaterThan(64 * 1024);
  });

  it('falls back to reading everything when the last event is longer than the window', async () => {
    const path = join(dir, 'long.cast');
    await writeFile(path, header + eventLine(1, 'o', 'a') + eventLine(7.5, 'o', 'y'.repeat(100_000)));
    expect((await readAsciicastSummary(path)).duration).toBe(7.5);
  });

  it('says 0 for a recording with no events', async () => {
    const path = join(dir, 'empty.cast');
    await writeFile(path, header);
    expect((await readAsciicastSummary(path)).duration).toBe(0);
  });
});

describe('recording names', () => {
  it('round-trip user names with underscores and dots', () => {
    const startedAt = new Date('2024-12-31T23:59:59.999Z');
    const path = recordingPath('/r', { deviceId: 'sw-osaka.2', user: 'j_doe.ops', sessionId: 'deadbeef-0000', startedAt });
    expect(path).toBe('/r/sw-osaka.2/2024-12-31/20241231T235959Z_j_doe.ops_deadbeef.cast');
    expect(parseRecordingName('20241231T235959Z_j_doe.ops_deadbeef.cast')).toEqual({
      startedAt: new Date('2024-12-31T23:59:59Z'),
      user: 'j_doe.ops',
      sessionPrefix: 'deadbeef',
    });
  });

  it('keep odd ids inside their folder', () => {
    const path = recordingPath('/r', { deviceId: '../etc', user: 'a/b', sessionId: '../..', startedAt: new Date(0) });
    expect(path).toBe('/r/--etc/1970-01-01/19700101T000000Z_a-b_session.cast');
  });

  it('reject names that are not recordings', () => {
    for (const name of ['notes.txt', '20241331T000000Z_a_b.cast', '20240101T000000Z_nosession.cast', '20240101T000000Z_a_b.cast.tmp']) {
      expect(parseRecordingName(name)).toBeUndefined();
    }
  });
});
