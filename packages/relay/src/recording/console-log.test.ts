import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceConsoleLog } from '../session/device-hub.js';
import { OpenLogFiles } from './console-log-file.js';
import { ConsoleLog, type ConsoleLogOptions } from './console-log.js';
import { listRotatedLogFiles } from './log-files.js';

let root: string;
const opened: ConsoleLog[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'console-log-'));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((log) => log.close()));
  await rm(root, { recursive: true, force: true });
});

function logOptions(options: Partial<ConsoleLogOptions> = {}): ConsoleLogOptions {
  return {
    dir: join(root, 'logs'),
    deviceId: 'rtr-tokyo-01',
    maxBytes: 4096,
    files: 3,
    scrollbackBytes: 64,
    queueBytes: 1_048_576,
    logger: silentLogger(),
    ...options,
  };
}

async function openLog(options: Partial<ConsoleLogOptions> = {}): Promise<ConsoleLog> {
  const log = await ConsoleLog.open(logOptions(options));
  opened.push(log);
  return log;
}

/** A logger whose JSON lines a test can read back. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ svc: 'test', version: '0', level: 'debug', destination }), lines };
}

/** `n` bytes counting through every byte value from `from`. */
function bytes(n: number, from = 0): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (from + i) % 256));
}

const logs = () => join(root, 'logs');

describe('ConsoleLog', () => {
  it('writes the device bytes exactly as received, every byte value included', async () => {
    const log = await openLog();
    const data = bytes(1000);
    for (let i = 0; i < data.length; i += 37) log.append(data.subarray(i, i + 37));
    await log.close();
    expect((await readFile(join(logs(), 'rtr-tokyo-01.log'))).equals(data)).toBe(true);
  });

  it('creates the folder 0700 and the file 0600', async () => {
    const log = await openLog();
    log.append(Buffer.from('x'));
    await log.close();
    expect((await stat(logs())).mode & 0o777).toBe(0o700);
    expect((await stat(log.path)).mode & 0o777).toBe(0o600);
  });

  it('makes an existing log file private again', async () => {
    await mkdir(logs(), { recursive: true });
    await writeFile(join(logs(), 'rtr-tokyo-01.log'), 'old\r\n', { mode: 0o644 });
    await chmod(join(logs(), 'rtr-tokyo-01.log'), 0o644);
    const log = await openLog();
    await log.close();
    expect((await stat(log.path)).mode & 0o777).toBe(0o600);
  });

  it('rotates at maxBytes, keeps `files` files and deletes the oldest, in order', async () => {
    const log = await openLog({ maxBytes: 100, files: 3 });
    const data = bytes(1234, 7);
    for (let i = 0; i < data.length; i += 30) log.append(data.subarray(i, i + 30));
    await log.close();
    expect((await readdir(logs())).sort()).toEqual(['rtr-tokyo-01.log', 'rtr-tokyo-01.log.1', 'rtr-tokyo-01.log.2']);
    const [current, previous, oldest] = await Promise.all(
      ['rtr-tokyo-01.log', 'rtr-tokyo-01.log.1', 'rtr-tokyo-01.log.2'].map((name) => readFile(join(logs(), name))),
    );
    // Files fill to exactly maxBytes; 1234 = 12 full files and 34 bytes in the current one.
    expect([oldest!.length, previous!.length, current!.length]).toEqual([100, 100, 34]);
    expect(Buffer.concat([oldest!, previous!, current!]).equals(data.subarray(1234 - 234))).toBe(true);
  });

  it('with files: 1 keeps only the current file', async () => {
    const log = await openLog({ maxBytes: 100, files: 1 });
    log.append(bytes(250));
    await log.close();
    expect(await readdir(logs())).toEqual(['rtr-tokyo-01.log']);
    expect((await readFile(log.path)).equals(bytes(250).subarray(200))).toBe(true);
  });

  it('continues the current file after a restart and rotates it when full', async () => {
    const first = await openLog({ maxBytes: 100, files: 2 });
    first.append(bytes(80));
    await first.close();
    const second = await openLog({ maxBytes: 100, files: 2 });
    second.append(bytes(50, 80));
    await second.close();
    expect((await readFile(join(logs(), 'rtr-tokyo-01.log.1'))).equals(bytes(100))).toBe(true);
    expect((await readFile(second.path)).equals(bytes(30, 100))).toBe(true);
  });

  it('deletes rotated files beyond `files` left by an earlier config', async () => {
    await mkdir(logs(), { recursive: true });
    for (const name of ['rtr-tokyo-01.log.1', 'rtr-tokyo-01.log.2', 'rtr-tokyo-01.log.7', 'other.log.5']) {
      await writeFile(join(logs(), name), 'x');
    }
    await openLog({ files: 2 });
    // The current file is made only when there is something to write.
    expect((await readdir(logs())).sort()).toEqual(['other.log.5', 'rtr-tokyo-01.log.1']);
  });

  it('deletes the surplus files named by one listing of the folder, without listing it again', async () => {
    await mkdir(logs(), { recursive: true });
    for (const name of ['rtr-tokyo-01.log.1', 'rtr-tokyo-01.log.4', 'rtr-tokyo-01.log.7']) await writeFile(join(logs(), name), 'x');
    const rotated = (await listRotatedLogFiles(logs())).get('rtr-tokyo-01');
    expect(rotated?.sort()).toEqual([1, 4, 7]);
    // A file that appeared after the listing is not looked for.
    await writeFile(join(logs(), 'rtr-tokyo-01.log.9'), 'x');
    await openLog({ files: 2, rotated });
    expect((await readdir(logs())).sort()).toEqual(['rtr-tokyo-01.log.1', 'rtr-tokyo-01.log.9']);
  });

  it('holds no file open while idle and reopens it for the next write', async () => {
    const log = await openLog({ idleCloseMs: 50 });
    const isOpen = async () => {
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
        if (target === log.path) return true;
      }
      return false;
    };
    expect(await isOpen()).toBe(false);
    log.append(Buffer.from('one\r\n'));
    await log.flush();
    expect(await isOpen()).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    await log.flush();
    expect(await isOpen()).toBe(false);
    log.append(Buffer.from('two\r\n'));
    await log.flush();
    expect(await isOpen()).toBe(true);
    await log.close();
    expect(await isOpen()).toBe(false);
    expect(await readFile(log.path, 'utf8')).toBe('one\r\ntwo\r\n');
  });

  it('keeps output appended while it starts, after the scrollback it primes from the log', async () => {
    const first = await openLog({ scrollbackBytes: 64 });
    first.append(Buffer.from('before restart|'));
    await first.close();
    const second = ConsoleLog.create(logOptions({ scrollbackBytes: 64 }));
    opened.push(second);
    second.append(Buffer.from('after'));
    await second.flush();
    expect(second.scrollback().toString()).toBe('before restart|after');
    await second.close();
    expect(await readFile(second.path, 'utf8')).toBe('before restart|after');
  });

  it("keeps what another group member writes to the device's log in the scrollback only: nothing reaches the file", async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 5, 6, 0, 0));
    const log = await openLog({ scrollbackBytes: 200, clock });
    log.remember(Buffer.from('Router>'));
    log.rememberNote('agent connected');
    log.append(Buffer.from('mine'));
    await log.close();
    expect(log.scrollback().toString()).toBe('Router>\r\n[lifeline 2026-12-05T06:00:00Z] agent connected\r\nmine');
    expect(await readFile(log.path, 'utf8')).toBe('mine');
  });

  it('keeps the last scrollbackBytes of output in memory, exactly', async () => {
    const log = await openLog({ scrollbackBytes: 300 });
    const data = bytes(1000, 200);
    for (let i = 0; i < data.length; i += 64) log.append(data.subarray(i, i + 64));
    expect(log.scrollback().equals(data.subarray(700))).toBe(true);
  });

  it('frames the scrollback for a person who joins, and gives nothing before any output', async () => {
    // What the hub sees of it (a type check: the hub takes a ConsoleLog as its DeviceConsoleLog).
    const log: DeviceConsoleLog = await openLog({ scrollbackBytes: 64 });
    expect(log.joinScrollback().length).toBe(0);
    log.append(Buffer.from('Router>'));
    expect(log.joinScrollback().toString()).toBe(
      '---- last 7 bytes of rtr-tokyo-01 console output (before you joined) ----\r\nRouter>\r\n---- live ----\r\n',
    );
  });

  it('primes the scrollback from the end of the log after a restart', async () => {
    const first = await openLog({ scrollbackBytes: 64 });
    first.append(bytes(500));
    await first.close();
    const second = await openLog({ scrollbackBytes: 64 });
    expect(second.scrollback().equals(bytes(500).subarray(436))).toBe(true);
  });

  it('primes from the file before when the current one was just rotated', async () => {
    const first = await openLog({ maxBytes: 100, files: 3, scrollbackBytes: 64 });
    first.append(bytes(220));
    await first.close();
    const second = await openLog({ maxBytes: 100, files: 3, scrollbackBytes: 64 });
    expect(second.scrollback().equals(bytes(220).subarray(156))).toBe(true);
  });

  it('writes notes as lifeline lines with a UTC time, in the file and the scrollback', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 21, 3, 0, 0));
    const log = await openLog({ clock });
    log.append(Buffer.from('Router>'));
    log.note('agent connected');
    log.note('bad\r\n\x1b[2Jtext');
    await log.close();
    const expected =
      'Router>\r\n[lifeline 2026-11-21T03:00:00Z] agent connected\r\n' + '\r\n[lifeline 2026-11-21T03:00:00Z] bad   [2Jtext\r\n';
    expect((await readFile(log.path)).toString()).toBe(expected);
    expect(log.scrollback().toString()).toBe(expected.slice(-64));
  });

  it('drops what does not fit in the queue, counts it, and notes the gap where it happened', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const log = await openLog({ clock, queueBytes: 4096, maxBytes: 1_000_000, scrollbackBytes: 20_000 });
    // All appended before the writer gets a turn: the disk is "slower" than the device.
    for (let i = 0; i < 10; i++) log.append(Buffer.alloc(1000, 0x41 + i));
    // Still room for a small chunk: it goes after the gap, where it belongs.
    log.append(Buffer.from('Z'));
    await log.close();
    const text = (await readFile(log.path)).toString('latin1');
    expect(text).toBe(
      'A'.repeat(1000) +
        'B'.repeat(1000) +
        'C'.repeat(1000) +
        'D'.repeat(1000) +
        '\r\n[lifeline 2026-01-02T03:04:05Z] 6000 bytes of console output were dropped here: the log could not keep up\r\n' +
        'Z',
    );
    // The scrollback is memory only: it lost nothing.
    expect(log.scrollback().length).toBe(10_001);
  });

  it('queues again once the disk has caught up', async () => {
    const log = await openLog({ queueBytes: 4096, maxBytes: 1_000_000 });
    log.append(Buffer.alloc(4000, 0x41));
    log.append(Buffer.alloc(1000, 0x42));
    await log.flush();
    log.append(Buffer.alloc(1000, 0x43));
    await log.close();
    const text = (await readFile(log.path)).toString('latin1');
    expect(text.startsWith('A'.repeat(4000) + '\r\n[lifeline ')).toBe(true);
    expect(text).toContain('1000 bytes of console output were dropped here');
    expect(text.endsWith('C'.repeat(1000))).toBe(true);
  });

  it('on a broken disk, does not throw, logs one error per failure streak, and keeps the scrollback', async () => {
    await writeFile(join(root, 'not-a-dir'), 'x');
    const { logger, lines } = capturingLogger();
    const clock = new FakeClock();
    const log = await openLog({ dir: join(root, 'not-a-dir', 'logs'), logger, clock, retryMs: 1_000 });
    for (let i = 0; i < 20; i++) {
      log.append(Buffer.from(`line ${i}\r\n`));
      await new Promise((resolve) => setImmediate(resolve));
      await clock.advance(1_000);
    }
    log.note('agent disconnected');
    await log.close();
    const errors = lines.filter((l) => l.event === 'console-log.error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.deviceId).toBe('rtr-tokyo-01');
    expect(log.scrollback().toString()).toContain('line 19\r\n');
  });

  it('writes again after the disk recovers, noting how much was lost', async () => {
    const blocker = join(root, 'blocker');
    await writeFile(blocker, 'x');
    const { logger, lines } = capturingLogger();
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const log = await openLog({ dir: join(blocker, 'logs'), logger, clock, retryMs: 1_000 });
    log.append(Buffer.from('lost bytes'));
    await waitUntil(() => clock.pendingTimers === 1);
    await rm(blocker);
    await mkdir(join(blocker, 'logs'), { recursive: true });
    log.append(Buffer.from('kept'));
    await clock.advance(1_000);
    await log.close();
    expect((await readFile(join(blocker, 'logs', 'rtr-tokyo-01.log'))).toString()).toBe(
      '\r\n[lifeline 2026-01-01T00:00:00Z] up to 10 bytes of console output were lost here: writing the log failed\r\nkept',
    );
    expect(lines.map((l) => l.event).filter((e) => String(e).startsWith('console-log.'))).toEqual([
      'console-log.error',
      'console-log.recovered',
    ]);
  });

  it('ignores output after close', async () => {
    const log = await openLog();
    log.append(Buffer.from('before'));
    await log.close();
    expect(() => log.append(Buffer.from('after'))).not.toThrow();
    log.note('after');
    await log.close();
    expect((await readFile(log.path)).toString()).toBe('before');
  });

  it('refuses a device id that is not a plain file name', async () => {
    await expect(openLog({ deviceId: '../etc' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
  it('closes its file as soon as it is written when the relay holds more log files open than it allows', async () => {
    const openFiles = new OpenLogFiles(1);
    const a = await openLog({ idleCloseMs: 60_000, openFiles });
    const b = await openLog({ deviceId: 'rtr-osaka-02', idleCloseMs: 60_000, openFiles });
    a.append(Buffer.from('a'));
    await a.flush();
    expect(openFiles.count).toBe(1);
    b.append(Buffer.from('b'));
    await b.flush();
    // Two open, one allowed: b closes at once (a keeps its file until its own idle time).
    await new Promise((r) => setTimeout(r, 20));
    await b.flush();
    expect(openFiles.count).toBe(1);
    await a.close();
    expect(openFiles.count).toBe(0);
    expect(await readFile(b.path, 'utf8')).toBe('b');
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
