import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, capturedLogger } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsciicastRecorderFactory } from './asciicast-recorder.js';
import { readAsciicast } from './asciicast.js';
import type { RecordingStart, RecordingStatus } from './session-recorder.js';

const START = new Date('2025-03-04T05:06:07.890Z');

function start(overrides: Partial<RecordingStart> = {}): RecordingStart {
  return {
    deviceId: 'rtr-tokyo-01',
    user: 'alice',
    sessionId: '0123abcd-4567-89ef-0123-456789abcdef',
    size: { cols: 132, rows: 43 },
    term: 'xterm-256color',
    startedAt: START,
    ...overrides,
  };
}

describe('AsciicastRecorderFactory', () => {
  let dir: string;
  let clock: FakeClock;
  let log: ReturnType<typeof capturedLogger>;
  let factory: AsciicastRecorderFactory;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-rec-'));
    clock = new FakeClock(START.getTime());
    log = capturedLogger();
    factory = new AsciicastRecorderFactory({ dir, maxQueuedBytes: 262_144, logger: log.logger, clock });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes an asciicast v2 header with the pty size, start time, title and TERM', async () => {
    const recorder = factory.open(start());
    await recorder.close();
    const lines = (await readFile(recorder.path!, 'utf8')).split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({
      version: 2,
      width: 132,
      height: 43,
      timestamp: Math.floor(START.getTime() / 1000),
      title: 'alice on rtr-tokyo-01',
      env: { TERM: 'xterm-256color' },
    });
    expect(lines.slice(1)).toEqual(['']);
  });

  it('leaves env out when TERM is unknown and falls back to 80x24 for an unusable size', async () => {
    const recorder = factory.open(start({ term: undefined, size: { cols: 0, rows: 0 } }));
    await recorder.close();
    const { header } = await readAsciicast(recorder.path!);
    expect(header).not.toHaveProperty('env');
    expect([header.width, header.height]).toEqual([80, 24]);
  });

  it('records output, input, resize and markers with seconds since the start', async () => {
    const recorder = factory.open(start());
    recorder.output(Buffer.from('Router> '));
    await clock.advance(1_500);
    recorder.input(Buffer.from('en\r'));
    await clock.advance(250);
    recorder.resize({ cols: 200, rows: 50 });
    recorder.marker('BREAK');
    await clock.advance(2_000_000);
    recorder.output(Buffer.from('rommon 1 >'));
    await recorder.close();
    const { events, truncated } = await readAsciicast(recorder.path!);
    expect(truncated).toBe(false);
    expect(events).toEqual([
      [0, 'o', 'Router> '],
      [1.5, 'i', 'en\r'],
      [1.75, 'r', '200x50'],
      [1.75, 'm', 'BREAK'],
      [2001.75, 'o', 'rommon 1 >'],
    ]);
  });

  it('keeps times from going backwards when the clock does', async () => {
    const recorder = factory.open(start({ startedAt: new Date(START.getTime() + 5_000) }));
    recorder.output(Buffer.from('a'));
    await clock.advance(7_000);
    recorder.output(Buffer.from('b'));
    await recorder.close();
    const { events } = await readAsciicast(recorder.path!);
    expect(events.map((e) => e[0])).toEqual([0, 2]);
  });

  it('joins a UTF-8 character split across output chunks, per stream', async () => {
    const recorder = factory.open(start());
    const e = Buffer.from('é'); // 0xc3 0xa9
    const yen = Buffer.from('¥');
    recorder.output(Buffer.from([0x41, e[0]!]));
    recorder.input(Buffer.from([yen[0]!]));
    recorder.output(Buffer.from([e[1]!, 0x42]));
    recorder.input(Buffer.from([yen[1]!]));
    await recorder.close();
    const { events } = await readAsciicast(recorder.path!);
    expect(events.map((ev) => [ev[1], ev[2]])).toEqual([
      ['o', 'A'],
      ['o', 'éB'],
      ['i', '¥'],
    ]);
  });

  it('turns bytes that are not UTF-8 into U+FFFD, including a character cut off at close', async () => {
    const recorder = factory.open(start());
    recorder.output(Buffer.from([0x41, 0xff, 0x42, 0xe2, 0x82]));
    await recorder.close();
    const { events } = await readAsciicast(recorder.path!);
    expect(events.map((ev) => ev[2]).join('')).toBe('A\uFFFDB\uFFFD');
  });

  it('escapes control characters so each event stays on one line', async () => {
    const recorder = factory.open(start());
    recorder.output(Buffer.from('line\r\n\x1b[1mbold\x00\u2028"q"\\'));
    await recorder.close();
    const text = await readFile(recorder.path!, 'utf8');
    expect(text.split('\n')).toHaveLength(3);
    expect((await readAsciicast(recorder.path!)).events[0]![2]).toBe('line\r\n\x1b[1mbold\x00\u2028"q"\\');
  });

  it('lays files out by device and UTC day, named by time, user and session', async () => {
    const recorder = factory.open(start());
    await recorder.close();
    expect(recorder.path).toBe(join(dir, 'rtr-tokyo-01', '2025-03-04', '20250304T050607Z_alice_0123abcd.cast'));
    expect(await readdir(dir)).toEqual(['rtr-tokyo-01']);
  });

  it('creates files with mode 0600 and folders with mode 0700', async () => {
    const recorder = factory.open(start());
    await recorder.close();
    expect((await stat(recorder.path!)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'rtr-tokyo-01'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'rtr-tokyo-01', '2025-03-04'))).mode & 0o777).toBe(0o700);
  });

  it('has close idempotent and ignores events after it', async () => {
    const recorder = factory.open(start());
    recorder.output(Buffer.from('before'));
    const first = recorder.close();
    recorder.output(Buffer.from('after'));
    recorder.marker('late');
    await Promise.all([first, recorder.close()]);
    await recorder.close();
    const { events } = await readAsciicast(recorder.path!);
    expect(events.map((e) => e[2])).toEqual(['before']);
  });

  it('writes each event as it happens, before close', async () => {
    const recorder = factory.open(start());
    recorder.output(Buffer.from('one'));
    await recorder.flush();
    expect((await readAsciicast(recorder.path!)).events).toEqual([[0, 'o', 'one']]);
    recorder.marker('takeover');
    await recorder.flush();
    expect((await readAsciicast(recorder.path!)).events).toHaveLength(2);
    await recorder.close();
  });

  it('returns at once and reports through onStatus when the file cannot be created, dropping everything without throwing', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const broken = new AsciicastRecorderFactory({ dir: join(blocker, 'recordings'), maxQueuedBytes: 262_144, logger: log.logger, clock });
    const statuses: RecordingStatus[] = [];
    const recorder = broken.open(start({ onStatus: (s) => statuses.push(s) }));
    expect(() => {
      recorder.output(Buffer.from('still fine'));
      recorder.input(Buffer.from('x'));
      recorder.resize({ cols: 1, rows: 1 });
      recorder.marker('BREAK');
    }).not.toThrow();
    await recorder.flush();
    expect(statuses).toEqual([{ recording: false, reason: 'the recordings folder is missing or not a folder' }]);
    await expect(recorder.close()).resolves.toBeUndefined();
    const errors = log.lines.filter((l) => l.event === 'recording.error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ component: 'recorder', deviceId: 'rtr-tokyo-01', user: 'alice', level: 50 });
    expect(JSON.stringify(errors[0])).toMatch(/ENOTDIR/);
  });

  it('reports recording once the file exists, and nothing after close', async () => {
    const statuses: RecordingStatus[] = [];
    const recorder = factory.open(start({ onStatus: (s) => statuses.push(s) }));
    await recorder.flush();
    expect(statuses).toEqual([{ recording: true, lost: 0 }]);
    await recorder.close();
    expect(statuses).toHaveLength(1);
  });

  it('joins output arriving within coalesceMs into one event, timed at its first byte, and cuts it at coalesceBytes', async () => {
    const recorder = new AsciicastRecorderFactory({
      dir,
      maxQueuedBytes: 262_144,
      logger: log.logger,
      clock,
      coalesceMs: 50,
      coalesceBytes: 8,
    }).open(start());
    recorder.output(Buffer.from('ab'));
    await clock.advance(30);
    recorder.output(Buffer.from('cd'));
    await clock.advance(30); // 60 ms after the first byte: written
    recorder.output(Buffer.from('ef'));
    await clock.advance(10);
    recorder.output(Buffer.from('0123456789')); // past 8 bytes: written at once
    recorder.output(Buffer.from('gh'));
    recorder.marker('m'); // keeps its place after the output before it
    await recorder.close();
    const { events } = await readAsciicast(recorder.path!);
    expect(events).toEqual([
      [0, 'o', 'abcd'],
      [0.06, 'o', 'ef0123456789'],
      [0.07, 'o', 'gh'],
      [0.07, 'm', 'm'],
    ]);
  });

  it('drops output for which its queue has no room without decoding it, and marks the gap', async () => {
    const recorder = new AsciicastRecorderFactory({ dir, logger: log.logger, clock, coalesceBytes: 1, maxQueuedBytes: 100 }).open(start());
    // The file is still being created: 150 bytes cannot wait in 100.
    recorder.output(Buffer.from('x'.repeat(150)));
    recorder.output(Buffer.from('fits'));
    await recorder.close();
    const { events } = await readAsciicast(recorder.path!);
    expect(events.map((e) => [e[1], e[2]])).toEqual([
      ['m', 'recording gap: 1 event lost'],
      ['o', 'fits'],
    ]);
    expect(log.lines.filter((l) => l.event === 'recording.overflow')).toHaveLength(1);
  });

  it('records two sessions of the same second side by side', async () => {
    const a = factory.open(start());
    const b = factory.open(start({ sessionId: 'ffff0000-aaaa' }));
    a.output(Buffer.from('a'));
    b.output(Buffer.from('b'));
    await Promise.all([a.close(), b.close()]);
    expect(a.path).not.toBe(b.path);
    expect((await readAsciicast(b.path!)).events).toEqual([[0, 'o', 'b']]);
  });
});
