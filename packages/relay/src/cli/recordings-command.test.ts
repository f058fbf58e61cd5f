import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsciicastRecorderFactory } from '../recording/asciicast-recorder.js';
import { runRecordings } from './recordings-command.js';

function collect() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return Object.assign(stream, { text: () => text });
}

async function run(args: string[]) {
  const stdout = collect();
  const stderr = collect();
  const code = await runRecordings(args, { stdout, stderr });
  return { code, out: stdout.text(), err: stderr.text() };
}

describe('lifeline-relay recordings', () => {
  let root: string;
  let dir: string;

  /** A recording of `seconds` seconds that started at `iso`. */
  async function record(deviceId: string, user: string, iso: string, seconds: number): Promise<string> {
    const startedAt = new Date(iso);
    const clock = new FakeClock(startedAt.getTime());
    const factory = new AsciicastRecorderFactory({ dir, maxQueuedBytes: 262_144, logger: silentLogger(), clock });
    const sessionId = `${user}${deviceId}`.replace(/[^a-z0-9]/g, '').padEnd(8, '0');
    const recorder = factory.open({ deviceId, user, sessionId, size: { cols: 80, rows: 24 }, term: 'xterm', startedAt });
    recorder.output(Buffer.from('Router>'));
    await clock.advance(seconds * 1000);
    recorder.marker('disconnect');
    await recorder.close();
    return recorder.path!;
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeline-list-'));
    dir = join(root, 'recs');
    await record('rtr-tokyo-01', 'alice', '2025-03-01T10:00:00Z', 65);
    await record('rtr-tokyo-01', 'bob', '2025-03-02T23:59:30Z', 3725);
    await record('sw-osaka-2', 'alice', '2025-03-03T00:00:10Z', 5);
    await writeFile(join(root, 'relay.yaml'), 'stateDir: .\nrecordingsDir: recs\n');
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lists every recording newest first with time, device, user, duration, size and path', async () => {
    const { code, out } = await run(['--dir', dir]);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^STARTED \(UTC\)\s+DEVICE\s+USER\s+DURATION\s+SIZE\s+PATH$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 4))).toEqual([
      ['2025-03-03 00:00:10', 'sw-osaka-2', 'alice', '0:00:05'],
      ['2025-03-02 23:59:30', 'rtr-tokyo-01', 'bob', '1:02:05'],
      ['2025-03-01 10:00:00', 'rtr-tokyo-01', 'alice', '0:01:05'],
    ]);
    expect(lines[1]).toMatch(/\d+B {2}\S+sw-osaka-2\/2025-03-03\/20250303T000010Z_alice_\w{8}\.cast$/);
  });

  it('filters by device, user and an inclusive range of UTC days', async () => {
    const users = async (args: string[]) =>
      JSON.parse((await run(['--dir', dir, '--json', ...args])).out).map(
        (e: { user: string; deviceId: string }) => `${e.user}@${e.deviceId}`,
      );
    expect(await users(['--device', 'rtr-tokyo-01'])).toEqual(['bob@rtr-tokyo-01', 'alice@rtr-tokyo-01']);
    expect(await users(['--user', 'alice'])).toEqual(['alice@sw-osaka-2', 'alice@rtr-tokyo-01']);
    expect(await users(['--since', '2025-03-02'])).toEqual(['alice@sw-osaka-2', 'bob@rtr-tokyo-01']);
    expect(await users(['--until', '2025-03-02'])).toEqual(['bob@rtr-tokyo-01', 'alice@rtr-tokyo-01']);
    expect(await users(['--since', '2025-03-02', '--until', '2025-03-02', '--user', 'bob'])).toEqual(['bob@rtr-tokyo-01']);
    expect(await users(['--device', 'nope'])).toEqual([]);
  });

  it('prints JSON with numbers and ISO times', async () => {
    const { code, out } = await run(['--dir', dir, '--json', '--user', 'bob']);
    expect(code).toBe(0);
    const [entry] = JSON.parse(out) as Array<Record<string, unknown>>;
    expect(entry).toMatchObject({
      startedAt: '2025-03-02T23:59:30.000Z',
      deviceId: 'rtr-tokyo-01',
      user: 'bob',
      durationSeconds: 3725,
      title: 'bob on rtr-tokyo-01',
    });
    expect(entry!.sizeBytes).toBeGreaterThan(100);
    expect(String(entry!.path).startsWith(dir)).toBe(true);
  });

  it('finds recordingsDir relative to the config file', async () => {
    const { code, out } = await run(['--config', join(root, 'relay.yaml'), '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toHaveLength(3);
  });

  it('says so on stderr when nothing matches', async () => {
    const { code, out, err } = await run(['--dir', dir, '--user', 'carol']);
    expect(code).toBe(0);
    expect(out).toBe('');
    expect(err).toMatch(/none found/);
  });

  it('refuses a malformed date and an unknown flag with exit 64, an unreadable config with 78', async () => {
    expect((await run(['--dir', dir, '--since', '2025-3-1'])).code).toBe(64);
    expect((await run(['--dir', dir, '--until', '2025-02-30'])).code).toBe(64);
    expect((await run(['--dir', dir, '--bogus'])).code).toBe(64);
    const missing = await run(['--config', join(root, 'missing.yaml')]);
    expect(missing.code).toBe(78);
    expect(missing.err).toMatch(/missing\.yaml/);
  });
});
