import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsciicastRecorderFactory } from './asciicast-recorder.js';
import { readAsciicast } from './asciicast.js';

// The real asciinema (Debian package `asciinema`, 2.2) must read what we write. No skipping:
// a machine without it fails here, as CI installs it (.ci/run).

const recorderDist = fileURLToPath(new URL('../../dist/recording/asciicast-recorder.js', import.meta.url));
const sharedDist = fileURLToPath(new URL('../../../shared/dist/index.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], timeout = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr: stderr + (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}

/** `asciinema cat` opens /dev/tty, so it runs under `script` (util-linux) to get a terminal. */
function asciinemaCat(path: string): Promise<Run> {
  return run('script', ['-qec', `asciinema cat '${path}'`, '/dev/null']);
}

describe('asciinema reads our recordings', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-asciinema-'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  async function recordSample(): Promise<string> {
    const startedAt = new Date('2025-03-04T05:06:07Z');
    const clock = new FakeClock(startedAt.getTime());
    const factory = new AsciicastRecorderFactory({ dir, maxQueuedBytes: 262_144, logger: silentLogger(), clock });
    const recorder = factory.open({
      deviceId: 'rtr-tokyo-01',
      user: 'alice',
      sessionId: 'abcdef12',
      size: { cols: 100, rows: 30 },
      term: 'xterm',
      startedAt,
    });
    recorder.output(Buffer.from('Router> show clock\r\n'));
    await clock.advance(800);
    recorder.input(Buffer.from('x'));
    recorder.resize({ cols: 120, rows: 40 });
    recorder.marker('BREAK');
    recorder.output(Buffer.from([0xe6, 0x9d, 0xb1])); // 東 split below
    recorder.output(Buffer.from([0xe4, 0xba]));
    await clock.advance(30_000);
    recorder.output(Buffer.from([0xac, 0xff, 0x0d, 0x0a]));
    recorder.output(Buffer.from('rommon 1 > '));
    await recorder.close();
    return recorder.path!;
  }

  it('asciinema cat prints the recorded output', async () => {
    const path = await recordSample();
    const cat = await asciinemaCat(path);
    expect(cat.stderr).toBe('');
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe('Router> show clock\r\n東京\uFFFD\r\nrommon 1 > ');
  });

  it('asciinema play exits 0 at high speed and with an idle limit', async () => {
    const path = await recordSample();
    const fast = await run('asciinema', ['play', '-s', '100', path]);
    expect(fast.code).toBe(0);
    expect(fast.stdout).toContain('rommon 1 > ');
    const capped = await run('asciinema', ['play', '-i', '0.1', path]);
    expect(capped.code).toBe(0);
    expect(capped.stdout).toContain('東京');
  });

  it('a recorder killed with SIGKILL mid-stream leaves a file with every event it had written', async () => {
    expect(existsSync(recorderDist), `${recorderDist} is missing: run npx tsc -b first`).toBe(true);
    const script = join(dir, 'writer.mjs');
    await writeFile(
      script,
      `const { AsciicastRecorderFactory } = await import(${JSON.stringify(recorderDist)});
const { silentLogger } = await import(${JSON.stringify(sharedDist)});
const factory = new AsciicastRecorderFactory({ dir: process.argv[2], maxQueuedBytes: 262_144, logger: silentLogger() });
const recorder = await factory.open({ deviceId: 'rtr-1', user: 'alice', sessionId: 'deadbeef-1', size: { cols: 80, rows: 24 }, term: 'xterm', startedAt: new Date() });
process.stdout.write('path ' + recorder.path + '\\n');
let n = 0;
for (;;) {
  for (let k = 0; k < 10; k++) recorder.output(Buffer.from('line ' + n++ + ' é\\r\\n'));
  recorder.marker('after ' + n);
  await recorder.flush();
  process.stdout.write('acked ' + n + '\\n');
}
`,
    );
    const child = spawn(process.execPath, [script, join(dir, 'recs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let path = '';
    let acked = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('path ')) path = line.slice(5);
      if (line.startsWith('acked ')) acked = Number(line.slice(6));
      if (acked >= 3000) {
        child.kill('SIGKILL');
        break;
      }
    }
    expect(await exited).toBe('SIGKILL');

    const cast = await readAsciicast(path);
    expect(cast.truncated).toBe(false);
    // Output events hold several chunks each (coalesced): compare the text they add up to.
    const output = cast.events
      .filter((e) => e[1] === 'o')
      .map((e) => e[2])
      .join('');
    const lines = output.split('\r\n').slice(0, -1);
    expect(lines.length).toBeGreaterThanOrEqual(acked);
    expect(output).toBe(lines.map((_, i) => `line ${i} é\r\n`).join(''));
    const markers = cast.events.filter((e) => e[1] === 'm').map((e) => e[2]);
    markers.forEach((label, i) => expect(label).toBe(`after ${(i + 1) * 10}`));
    expect(cast.events.every((e, i) => i === 0 || e[0] >= cast.events[i - 1]![0])).toBe(true);

    const cat = await asciinemaCat(path);
    expect(cat.code).toBe(0);
    expect(cat.stdout).toContain(`line ${acked - 1} é\r\n`);
  });

  it('a write that fails part-way (file size limit) is cut back to whole lines and the gap is marked', async () => {
    const script = join(dir, 'limited.mjs');
    await writeFile(
      script,
      `import { statSync } from 'node:fs';
const { AsciicastRecorderFactory } = await import(${JSON.stringify(recorderDist)});
const { createLogger, systemClock } = await import(${JSON.stringify(sharedDist)});
const startedAt = new Date();
const clock = { ...systemClock, now: () => startedAt.getTime() };
const logger = createLogger({ svc: 'child', version: '0', destination: process.stdout });
const recorder = await new AsciicastRecorderFactory({ dir: process.argv[2], maxQueuedBytes: 262_144, logger, clock, retryMs: 0, coalesceBytes: 1 }).open({ deviceId: 'rtr-1', user: 'alice', sessionId: 'efbig', size: { cols: 80, rows: 24 }, term: undefined, startedAt });
await recorder.flush();
// Lines of [0,"o","xx...x"] plus newline: 11 bytes of frame. Pad the first so every line ends on a multiple of 1000.
recorder.output(Buffer.from('p'.repeat(1000 - statSync(recorder.path).size - 11)));
for (let i = 0; i < 9; i++) {
  recorder.output(Buffer.from('x'.repeat(989)));
  await recorder.flush();
}
recorder.output(Buffer.from('bye'));
await recorder.close();
process.stderr.write(recorder.path);
`,
    );
    // bash's ulimit -f counts KiB: writes past 8192 bytes fail with EFBIG (node ignores SIGXFSZ).
    const result = await run('bash', ['-c', `ulimit -f 8 && exec "${process.execPath}" "${script}" "${join(dir, 'recs')}"`]);
    expect(result.code).toBe(0);
    const path = result.stderr;
    const text = await readFile(path, 'utf8');
    expect(text.length).toBeLessThanOrEqual(8192);
    const cast = await readAsciicast(path);
    expect(cast.truncated).toBe(false);
    expect(cast.events.map((e) => [e[1], e[2].length])).toEqual([
      ...Array.from({ length: 8 }, (_, i) => ['o', i === 0 ? 1000 - text.indexOf('\n') - 1 - 11 : 989]),
      ['m', 'recording gap: 2 events lost'.length],
      ['o', 3],
    ]);
    const logs = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; err?: { code?: string }; lost?: number });
    expect(logs.filter((l) => l.event === 'recording.error').map((l) => l.err?.code)).toEqual(['EFBIG']);
    expect(logs.filter((l) => l.event === 'recording.recovered').map((l) => l.lost)).toEqual([2]);
    expect((await asciinemaCat(path)).code).toBe(0);
  });
});
