import { execFile, spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { readAsciicast } from '../packages/relay/src/recording/asciicast.js';
import { relayBin } from './support/lifeline-process.js';
import { LifelineSite, users } from './support/lifeline-site.js';
import { requireProgram } from './support/programs.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);

/** `asciinema cat` opens /dev/tty, so it runs under `script` to have one. */
async function asciinemaCat(path: string): Promise<string> {
  requireProgram('asciinema');
  const { stdout } = await run('script', ['-qec', `asciinema cat '${path}'`, '/dev/null'], { timeout: 20_000 });
  return stdout;
}

function relayCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [relayBin, ...args], { timeout: 20_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('session recordings and the admin commands, relay and agent as processes', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let site: LifelineSite | undefined;
  afterEach(async () => {
    await site?.stop();
    await dir?.remove();
    site = dir = undefined;
  });

  it('records a session event by event, in a file asciinema plays, and lists and replays it', async () => {
    dir = await makeTempDir('e2e-rec');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    const start = await site.relay.waitForLog('session start', (l) => l.event === 'session.start' && l.user === 'alice');
    c.write('show version\r');
    await c.waitForOutput(/Configuration register/);
    c.write('\x1db');
    await c.waitForOutput('rommon 1 >');
    c.write('\x1d.');
    await c.closed;
    await site.relay.waitForLog('session end', (l) => l.event === 'session.end' && l.sessionId === start.sessionId);

    const path = String(start.recording);
    expect(path.startsWith(join(dir.path, 'recordings', 'rtr-1'))).toBe(true);
    expect(path).toMatch(/\/\d{4}-\d\d-\d\d\/\d{8}T\d{6}Z_alice_[0-9a-f]{8}\.cast$/);
    const cast = await readAsciicast(path);
    expect(cast.header).toMatchObject({ version: 2, width: 100, height: 30, title: expect.stringMatching(/alice.*rtr-1/) });
    const output = cast.events
      .filter((e) => e[1] === 'o')
      .map((e) => e[2])
      .join('');
    expect(output).toContain('lifeline simulated IOS');
    expect(output).toContain('rommon 1 >');
    const markers = cast.events.filter((e) => e[1] === 'm').map((e) => e[2]);
    expect(markers).toEqual(
      expect.arrayContaining([expect.stringMatching(/^BREAK 500 ms by alice$/), expect.stringMatching(/^disconnect/)]),
    );
    // Input is not recorded by default: console passwords are typed there.
    expect(cast.events.some((e) => e[1] === 'i')).toBe(false);
    const times = cast.events.map((e) => e[0]);
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    expect(await asciinemaCat(path)).toContain('lifeline simulated IOS');

    const listed = relayCli(['recordings', '--config', site.relayConfigFile, '--device', 'rtr-1', '--json']);
    expect(listed.status).toBe(0);
    expect(JSON.stringify(JSON.parse(listed.stdout))).toContain(path);
    const dumped = relayCli(['replay', path, '--dump']);
    expect(dumped.status).toBe(0);
    expect(dumped.stdout).toContain('lifeline simulated IOS');
    expect(dumped.stdout).toMatch(/\[marker: BREAK 500 ms by alice\]/);
  });

  it('leaves a valid recording when the relay is killed with SIGKILL mid-session', async () => {
    dir = await makeTempDir('e2e-rec-kill');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    const start = await site.relay.waitForLog('session start', (l) => l.event === 'session.start');
    c.write('show version\r');
    await c.waitForOutput(/Configuration register/);
    // Output is joined for up to 50 ms before it is written: a kill loses at most that much.
    await new Promise((r) => setTimeout(r, 250));
    await site.relay.stop('SIGKILL');
    await c.closed;

    const cast = await readAsciicast(String(start.recording));
    expect(cast.truncated).toBe(false);
    expect(
      cast.events
        .filter((e) => e[1] === 'o')
        .map((e) => e[2])
        .join(''),
    ).toContain('Configuration register');
    expect(await asciinemaCat(String(start.recording))).toContain('Configuration register');
  });

  // Three CLI runs (each a Node.js start, and a child to read relay.yaml): room for a loaded machine.
  it('lists live sessions through the admin socket', async () => {
    dir = await makeTempDir('e2e-admin');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    const empty = relayCli(['sessions', '--config', site.relayConfigFile]);
    expect(empty.status).toBe(0);
    expect(empty.stdout).toMatch(/no live sessions/);

    const alice = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    const sue = await openConsole({ port: site.port, user: 'sue:rtr-1:watch', password: users.sue.password });
    await sue.waitForOutput('watching read-only');
    const live = relayCli(['sessions', '--config', site.relayConfigFile, '--json']);
    expect(live.status).toBe(0);
    expect(JSON.parse(live.stdout)).toEqual([expect.objectContaining({ deviceId: 'rtr-1', writer: 'alice', viewers: ['sue'] })]);
    const table = relayCli(['sessions', '--config', site.relayConfigFile]);
    expect(table.stdout).toMatch(/rtr-1\s+alice\s+sue/);
    alice.end();
    sue.end();
  }, 60_000);

  it('prunes recordings past the retention period when the relay starts', async () => {
    dir = await makeTempDir('e2e-retention');
    const old = join(dir.path, 'recordings', 'rtr-1', '2020-01-01');
    await mkdir(old, { recursive: true });
    await writeFile(join(old, '20200101T000000Z_alice_00000000.cast'), '{"version":2,"width":80,"height":24,"timestamp":1577836800}\n');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim }', relayExtra: 'recording: { retentionDays: 30 }' });
    await waitFor('old recording pruned', async () => !(await readdir(join(dir!.path, 'recordings', 'rtr-1'))).includes('2020-01-01'));
  });
});
