import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { readAsciicast } from '../packages/relay/src/recording/asciicast.js';
import { LifelineSite, users } from './support/lifeline-site.js';
import { requireProgram } from './support/programs.js';
import { openConsole, tryLogin, type ConsoleClient } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

// A full and a frozen recordings disk, made for real: a small tmpfs filled up, and a loop-mounted
// ext4 image frozen with fsfreeze. Both need root (CI runs as root; a missing program fails).
const run = promisify(execFile);

async function asciinemaCat(path: string): Promise<string> {
  requireProgram('asciinema');
  const { stdout } = await run('script', ['-qec', `asciinema cat '${path}'`, '/dev/null'], { timeout: 20_000 });
  return stdout;
}

async function castFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else found.push(join(d, e.name));
    }
  };
  await walk(dir);
  return found;
}

describe('recordings on a disk that is full or frozen, relay and agent as processes', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let site: LifelineSite | undefined;
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    // Thaw before anything else: a process with a thread stuck on a frozen disk cannot even die.
    for (const c of cleanups.splice(0).reverse())
      await Promise.resolve()
        .then(c)
        .catch(() => {});
    await site?.stop();
    for (const c of unmounts.splice(0))
      await Promise.resolve()
        .then(c)
        .catch(() => {});
    await dir?.remove();
    site = dir = undefined;
  });
  const unmounts: Array<() => unknown> = [];

  it('tells the person a full disk stops the recording and that it resumes, and the file starts with a valid header and plays', async () => {
    dir = await makeTempDir('e2e-rec-full');
    const recs = join(dir.path, 'recs');
    await mkdir(recs);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', recs]);
    unmounts.push(() => execFileSync('umount', ['-l', recs]));
    // Fill it: every block taken, inodes left (so creating an empty file still works, as on a real full disk).
    await run('sh', ['-c', `dd if=/dev/zero of='${recs}/filler' bs=4k 2>/dev/null; true`]);
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }', relayExtra: `recordingsDir: ${recs}` });

    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    await c.waitForOutput('this session is NOT being recorded (the recordings disk is full); the console works as usual.');
    const stopped = await site.relay.waitForLog('recording.stopped', (l) => l.event === 'recording.stopped' && l.user === 'alice');
    expect(stopped).toMatchObject({ reason: 'the recordings disk is full' });
    c.write('show version\r');
    await c.waitForOutput(/Configuration register/);
    // No file without its header, and no half-made file.
    expect((await castFiles(recs)).filter((p) => !p.endsWith('filler'))).toEqual([]);

    await rm(join(recs, 'filler'));
    // The recorder tries again 5 s after the failure, at the next event.
    const resumed = await waitFor(
      'recording resumed',
      async () => {
        c.write('\r');
        await new Promise((r) => setTimeout(r, 500));
        return site!.relay.logs.find((l) => l.event === 'recording.resumed' && l.user === 'alice');
      },
      20_000,
    );
    // What the console printed meanwhile waited within the recorder's bound: nothing is lost.
    expect(resumed.lost).toBe(0);
    await c.waitForOutput('this session is being recorded again; nothing is missing from the recording.');
    c.write('show clock\r');
    await c.waitForOutput(/UTC/);
    c.end();
    await c.closed;
    await site.relay.waitForLog('session end', (l) => l.event === 'session.end' && l.user === 'alice');

    const [path] = await castFiles(recs);
    const cast = await waitFor('the recording, to its end', async () => {
      const r = await readAsciicast(path!);
      return r.events.some((e) => e[1] === 'm' && e[2].startsWith('disconnect')) ? r : undefined;
    });
    expect(cast.header).toMatchObject({ version: 2, title: 'alice on rtr-1' });
    const output = cast.events
      .filter((e) => e[1] === 'o')
      .map((e) => e[2])
      .join('');
    expect(output).toContain('Configuration register'); // printed while the disk was full
    const played = await asciinemaCat(path!);
    expect(played).toContain('Configuration register');
    expect(played).toMatch(/UTC/);
  }, 60_000);

  it('attaches consoles and checks passwords at once while the recordings disk is frozen, and records again when it thaws', async () => {
    for (const p of ['fsfreeze', 'mkfs.ext4', 'mount']) requireProgram(p);
    dir = await makeTempDir('e2e-rec-frozen');
    const image = join(dir.path, 'disk.img');
    const disk = join(dir.path, 'disk');
    await mkdir(disk);
    execFileSync('truncate', ['-s', '32M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', image]);
    execFileSync('mount', ['-o', 'loop', image, disk]);
    unmounts.push(() => execFileSync('umount', ['-l', disk]));
    site = await LifelineSite.start(dir.path, {
      console: '{ type: sim, hostname: rtr-1 }',
      relayExtra: [`recordingsDir: ${join(disk, 'recordings')}`, `consoleLog: { dir: ${join(disk, 'console-logs')} }`].join('\n'),
    });

    execFileSync('fsfreeze', ['-f', disk]);
    const thaw = () => execFileSync('fsfreeze', ['-u', disk]);
    cleanups.push(thaw);
    // Should this process die before afterEach, the disk thaws by itself.
    spawn('sh', ['-c', `sleep 90; fsfreeze -u '${disk}'`], { detached: true, stdio: 'ignore' }).unref();

    // More sessions than libuv has threads: each one's recording (and the console log) waits on the disk.
    const started = Date.now();
    const people: Array<keyof typeof users> = ['alice', 'dave', 'sue', 'alice', 'dave', 'sue', 'alice', 'dave', 'sue', 'alice'];
    const writer = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    const consoles: ConsoleClient[] = [
      writer,
      ...(await Promise.all(people.slice(1).map((user) => openConsole({ port: site!.port, user, password: users[user].password })))),
    ];
    // Attached: the hub logs session.start once a person is in (it used to wait for the recording first).
    await waitFor(
      'every console attached',
      () => site!.relay.logs.filter((l) => l.event === 'session.start').length >= people.length,
      10_000,
    );
    consoles[0]!.write('show version\r');
    await consoles[0]!.waitForOutput(/Configuration register/, 10_000);
    const attachMs = Date.now() - started;
    // And a password login on top, while every recording is stuck.
    const loginStart = Date.now();
    expect(await tryLogin({ port: site.port, user: 'bob', password: users.bob.password })).toBe('ok');
    const loginMs = Date.now() - loginStart;
    console.log(`frozen disk: ${people.length} consoles attached in ${attachMs} ms, a password login took ${loginMs} ms`);
    expect(attachMs).toBeLessThan(8_000);
    expect(loginMs).toBeLessThan(3_000);

    await consoles[0]!.waitForOutput(
      'this session is NOT being recorded (the recordings disk does not answer); the console works as usual.',
      15_000,
    );
    thaw();
    cleanups.pop();
    consoles[0]!.write('\r');
    await consoles[0]!.waitForOutput(/this session is being recorded again/, 15_000);
    for (const c of consoles) c.end();
    await Promise.all(consoles.map((c) => c.closed));
    const ends = await waitFor('every session ended', () => {
      const e = site!.relay.logs.filter((l) => l.event === 'session.end' && 'bytesOut' in l);
      return e.length >= people.length ? e : undefined;
    });
    expect(ends).toHaveLength(people.length);
    const files = (await castFiles(join(disk, 'recordings'))).filter((p) => p.endsWith('.cast'));
    expect(files).toHaveLength(people.length);
    for (const f of files) expect((await readAsciicast(f)).header.version).toBe(2);
  }, 90_000);
});
