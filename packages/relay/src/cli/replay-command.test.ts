import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { systemClock, type Clock } from '@lifeline/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventLine, headerLine } from '../recording/asciicast.js';
import { runReplay } from './replay-command.js';

function collect() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return Object.assign(stream, { text: () => text });
}

/** A clock that notes each pause and does not wait. */
function pauseRecorder(): Clock & { pauses: number[] } {
  const pauses: number[] = [];
  return { ...systemClock, pauses, sleep: async (ms: number) => void pauses.push(Math.round(ms * 1000) / 1000) };
}

async function run(args: string[], clock?: Clock) {
  const stdout = collect();
  const stderr = collect();
  const code = await runReplay(args, { stdout, stderr, ...(clock ? { clock } : {}) });
  return { code, out: stdout.text(), err: stderr.text() };
}

describe('lifeline-relay replay', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-replay-'));
    file = join(dir, 'session.cast');
    await writeFile(
      file,
      headerLine({ version: 2, width: 80, height: 24, timestamp: 1_741_000_000, title: 'alice on rtr-tokyo-01' }) +
        eventLine(0.5, 'o', 'Router> ') +
        eventLine(1, 'i', 'secret\r') +
        eventLine(1.5, 'o', 'reload') +
        eventLine(1.6, 'm', 'BREAK') +
        eventLine(1.6, 'r', '100x40') +
        eventLine(3601.6, 'o', '\r\nrommon 1 > ') +
        eventLine(3602, 'm', 'disconnect'),
    );
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--dump prints the output with markers on lines of their own, and no input', async () => {
    const { code, out } = await run([file, '--dump']);
    expect(code).toBe(0);
    expect(out).toBe('Router> reload\n[marker: BREAK]\n\r\nrommon 1 > \n[marker: disconnect]\n');
    expect(out).not.toContain('secret');
  });

  it('plays output at its recorded pace, long pauses capped at 2 s', async () => {
    const clock = pauseRecorder();
    const { code, out, err } = await run([file], clock);
    expect(code).toBe(0);
    expect(out).toBe('Router> reload\r\nrommon 1 > ');
    expect(clock.pauses).toEqual([500, 1000, 2000]);
    expect(err).toMatch(/alice on rtr-tokyo-01 recorded 2025-03-03T11:06:40.000Z, 80x24, speed 1x, pauses capped at 2 s/);
  });

  it('divides pauses by --speed and honours --idle-limit (0 keeps them)', async () => {
    const fast = pauseRecorder();
    expect((await run([file, '--speed', '4', '--idle-limit', '0.5'], fast)).code).toBe(0);
    expect(fast.pauses).toEqual([125, 125, 125]);
    const uncapped = pauseRecorder();
    expect((await run([file, '-s', '1000', '-i', '0'], uncapped)).code).toBe(0);
    expect(uncapped.pauses).toEqual([0.5, 1, 3600.1]);
  });

  it('plays a tiny recording in real time at --speed 1000', async () => {
    const { code, out } = await run([file, '--speed', '1000']);
    expect(code).toBe(0);
    expect(out).toBe('Router> reload\r\nrommon 1 > ');
  });

  it('plays up to a last line cut short, and says so', async () => {
    const cut = join(dir, 'cut.cast');
    await writeFile(cut, headerLine({ version: 2, width: 80, height: 24 }) + eventLine(0, 'o', 'kept') + '[1, "o", "lo');
    const { code, out, err } = await run([cut, '--dump']);
    expect(code).toBe(0);
    expect(out).toBe('kept');
    expect(err).toMatch(/cut short/);
  });

  it('fails with exit 1 for a missing or invalid file, and 78 for bad flags', async () => {
    const missing = await run([join(dir, 'nope.cast')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/ENOENT/);
    const notCast = join(dir, 'notes.txt');
    await writeFile(notCast, 'hello\nworld\n');
    expect((await run([notCast, '--dump'])).code).toBe(1);
    expect((await run([])).code).toBe(64);
    expect((await run([file, '--speed', '0'])).code).toBe(64);
    expect((await run([file, '--speed', 'fast'])).code).toBe(64);
    expect((await run([file, '--idle-limit', '-1'])).code).toBe(64);
    expect((await run([file, 'other.cast'])).code).toBe(64);
    expect((await run([file, '--loop'])).code).toBe(64);
  });
});
