import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateParsableEd25519 } from '@lifeline/shared';
import { readAsciicast } from '../packages/relay/src/recording/asciicast.js';
import { hashPassword } from '../packages/relay/src/ssh/password-hash.js';
import { relayBin } from './support/lifeline-process.js';
import { LifelineSite, users } from './support/lifeline-site.js';
import { requireProgram } from './support/programs.js';
import { relayCli } from './support/relay-cli.js';
import { openSshFiles } from './support/ssh-clients.js';
import { connectSsh2Agent, type Ssh2Agent } from './support/ssh2-agents.js';
import { openConsole, openConsoleChannel, tryLogin } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { TmuxTerminal } from './support/tmux-terminal.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);
/** 100 devices on 4 agent connections (25 each), as agents with several consoles hold them. */
const GROUPS = 4;
const PER_GROUP = 25;
const bulkId = (g: number, i: number) => `bulk-${g}-${String(i).padStart(2, '0')}`;

describe('live inventory: reloading relay.yaml disturbs nobody', () => {
  let dir: { path: string; remove(): Promise<void> };
  let site: LifelineSite;
  const agents: Ssh2Agent[] = [];
  const terminals: TmuxTerminal[] = [];
  const keys = Array.from({ length: GROUPS }, (_, g) => generateParsableEd25519(`agent@group-${g}`));

  beforeAll(async () => {
    requireProgram('ssh');
    requireProgram('tmux');
    dir = await makeTempDir('e2e-live-inventory');
    const bulk = keys.flatMap((key, g) =>
      Array.from(
        { length: PER_GROUP },
        (_, i) => `  - { id: ${bulkId(g, i)}, agentKey: "${key.public.trim()}", labels: { site: s${g}, kind: router } }`,
      ),
    );
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }', relayExtra: bulk.join('\n') });
    for (const [g, key] of keys.entries()) {
      const ids = Array.from({ length: PER_GROUP }, (_, i) => bulkId(g, i));
      agents.push(await connectSsh2Agent(site.port, ids, key.private));
    }
  }, 120_000);
  afterAll(async () => {
    for (const t of terminals) t.kill();
    for (const a of agents) a.end();
    await site?.stop();
    await dir?.remove();
  });

  const yamlFile = () => site.relayConfigFile;
  const editYaml = async (edit: (text: string) => string) => writeFile(yamlFile(), edit(await readFile(yamlFile(), 'utf8')));
  const reload = (...args: string[]) => relayCli(['reload', '--socket', join(dir.path, 'relay.sock'), ...args]);
  const openStreams = () => agents.flatMap((a) => [...a.streams.values()]).reduce((n, s) => n + s.opened - s.closed, 0);

  it('keeps a typing person and 100 agent tunnels up across ten reloads, with exact byte counts and recording', async () => {
    expect(openStreams()).toBe(GROUPS * PER_GROUP);
    // Without a pty, stdout carries the console's bytes alone: what the relay counts and records.
    const person = await openConsoleChannel({ port: site.port, user: 'alice', password: users.alice.password, pty: false });
    const start = await site.relay.waitForLog('session start', (l) => l.event === 'session.start' && l.user === 'alice');
    let typed = 0;
    for (let i = 1; i <= 10; i++) {
      person.write('show version\r');
      typed += 'show version\r'.length;
      await waitFor(`answer ${i}`, () => person.output().split('Configuration register').length - 1 >= i);
      // A harmless change each time: a device's description.
      await editYaml((t) => t.replace(/(id: bulk-0-00, )(description: "[^"]*", )?/, `$1description: "reload ${i}", `));
      const answer = await reload();
      expect(answer).toMatchObject({ code: 0, stdout: 'reloaded: users unchanged; devices ~bulk-0-00\n' });
    }
    expect(site.relay.logs.filter((l) => l.event === 'config.reloaded')).toHaveLength(10);
    person.write('show version\r');
    typed += 'show version\r'.length;
    await waitFor('answer 11', () => person.output().split('Configuration register').length - 1 >= 11);
    await new Promise((r) => setTimeout(r, 300)); // the rest of the answer
    person.end();
    const end = await site.relay.waitForLog('session end', (l) => l.event === 'session.end' && l.sessionId === start.sessionId);
    expect(Number(end.bytesIn)).toBe(typed);
    expect(Number(end.bytesOut)).toBe(person.bytes().length);
    const cast = await readAsciicast(String(start.recording));
    const recorded = cast.events
      .filter((e) => e[1] === 'o')
      .map((e) => e[2])
      .join('');
    expect(Buffer.from(recorded, 'utf8').equals(person.bytes())).toBe(true);

    // Nothing else noticed: every tunnel and console stream still up, no agent reconnected.
    expect(openStreams()).toBe(GROUPS * PER_GROUP);
    expect(agents.every((a) => !a.closed())).toBe(true);
    expect(site.relay.logs.filter((l) => l.event === 'tunnel.down' || l.event === 'tunnel.dropped')).toEqual([]);
    expect(site.agent!.logs.filter((l) => l.event === 'console.stream.attached')).toHaveLength(1);
  }, 120_000);

  it('refuses a bad file with file: key: problem, exit 78, and the old config keeps working', async () => {
    const good = await readFile(yamlFile(), 'utf8');
    await writeFile(yamlFile(), good.replace('auth: { failureDelayMs: 50 }', 'auth: { failureDelayMs: 50, bogus: 1 }'));
    const refused = await reload();
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain(`${yamlFile()}: auth: Unrecognized key: "bogus"`);
    await writeFile(
      yamlFile(),
      good.replace(/agentKey: "[^"]+", labels: \{ site: s1/, 'agentKey: "ssh-ed25519 broken", labels: { site: s1'),
    );
    const badKey = await reload();
    expect(badKey.code).toBe(78);
    expect(badKey.stderr).toMatch(new RegExp(`${yamlFile()}: devices\\[\\d+\\]\\.agentKey: not a usable public key line`));
    await writeFile(yamlFile(), good);
    expect(await tryLogin({ port: site.port, user: 'dave', password: users.dave.password })).toBe('ok');
    expect(openStreams()).toBe(GROUPS * PER_GROUP);
  });

  it('closes only the tunnel of a device removed from relay.yaml', async () => {
    const removed = bulkId(2, 7);
    await editYaml((t) => t.replace(new RegExp(`  - \\{ id: ${removed}, .*\\n`), ''));
    expect((await reload()).stdout).toBe(`reloaded: users unchanged; devices -${removed}\n`);
    await waitFor('the removed device stream closed', () => agents[2]!.streams.get(removed)!.closed === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(openStreams()).toBe(GROUPS * PER_GROUP - 1);
    expect(agents.every((a) => !a.closed())).toBe(true);
    const dropped = site.relay.logs.filter((l) => l.event === 'tunnel.dropped' || l.event === 'tunnel.down');
    expect(dropped.map((l) => l.deviceId)).toEqual([removed, removed]);
  });

  it('applies a demotion to the next action: a demoted supervisor cannot take over', async () => {
    const dave = await openConsole({ port: site.port, user: 'dave', password: users.dave.password });
    await dave.waitForOutput('connected to rtr-1');
    const sue = await openConsole({ port: site.port, user: 'sue', password: users.sue.password });
    await sue.waitForOutput('read-only');
    await editYaml((t) => t.replace(/(name: sue, .*role: )supervisor/, '$1engineer'));
    expect((await reload()).stdout).toBe('reloaded: users ~sue; devices unchanged\n');
    sue.write('\x1dt');
    await sue.waitForOutput('taking it over needs the supervisor or admin role');
    dave.write('show version\r');
    await dave.waitForOutput('Configuration register');
    dave.end();
    sue.end();
    await Promise.all([dave.closed, sue.closed]);
  });

  it("ends a removed person's live session with a one-line notice, and only theirs", async () => {
    const dave = await openConsole({ port: site.port, user: 'dave', password: users.dave.password });
    await dave.waitForOutput('connected to rtr-1');
    const tom = await openConsole({ port: site.port, user: 'tom', password: users.tom.password });
    await tom.waitForOutput('connected to rtr-1');
    await editYaml((t) => t.replace(/ {2}- \{ name: tom, .*\n/, ''));
    expect((await reload()).stdout).toBe('reloaded: users -tom; devices unchanged\n');
    await tom.waitForOutput('[lifeline] your account was removed from this relay; the session ends.');
    expect(await tom.closed).toBe(1);
    dave.write('show version\r');
    await dave.waitForOutput('Configuration register');
    expect(await tryLogin({ port: site.port, user: 'tom', password: users.tom.password })).not.toBe('ok');
    dave.end();
    await dave.closed;
  });

  it('lets a person added to relay.yaml log in after reload, with the menu in a real OpenSSH pty, and devices --user by the same rule', async () => {
    const password = 'carol-secret';
    const line = `  - { name: carol, password: "${await hashPassword(password, { N: 1024, r: 8, p: 1 })}", devices: ["bulk-1-0*"], deviceLabels: [{ site: s3, kind: router }] }`;
    expect(await tryLogin({ port: site.port, user: 'carol', password })).not.toBe('ok');
    await editYaml((t) => t.replace('users:\n', `users:\n${line}\n  - { name: rtr-fan, password: "x", devices: [rtr-1] }\n`));
    const refused = await reload();
    expect(refused.code).toBe(78);
    expect(refused.stderr).toMatch(/users\[1\]\.password: must be a hash made by `lifeline-relay hash-password`/);
    await editYaml((t) => t.replace(/ {2}- \{ name: rtr-fan.*\n/, ''));
    expect((await reload()).stdout).toBe('reloaded: users +carol; devices unchanged\n');
    expect(await tryLogin({ port: site.port, user: 'carol', password })).toBe('ok');

    const { stdout } = await run(process.execPath, [
      relayBin,
      'devices',
      '--socket',
      join(dir.path, 'relay.sock'),
      '--user',
      'carol',
      '--json',
    ]);
    const ids = (JSON.parse(stdout) as Array<{ deviceId: string }>).map((d) => d.deviceId);
    expect(ids).toEqual([
      ...Array.from({ length: 10 }, (_, i) => bulkId(1, i)),
      ...Array.from({ length: PER_GROUP }, (_, i) => bulkId(3, i)),
    ]);

    const ssh = await openSshFiles(dir.path, site.port, password);
    const t = TmuxTerminal.start(['ssh', ...ssh.args, '-l', 'carol', '127.0.0.1'], ssh.env);
    terminals.push(t);
    await t.waitForScreen('Devices you may reach (35):');
    const screen = t.screen();
    expect(screen).toMatch(/1 {2}bulk-1-00 {2}online/);
    expect(screen).toContain('... 15 more: type the start of a name to narrow the list.');
    expect(screen).not.toContain('rtr-1 ');
    t.type('bulk-3-1');
    t.keys('Enter');
    await t.waitForScreen('Devices starting with "bulk-3-1" (10 of 35):');
    t.type('rtr-1');
    t.keys('Enter');
    await t.waitForScreen('no device of yours is "rtr-1"');
    t.type('bulk-3-12');
    t.keys('Enter');
    await t.waitForScreen('connected to bulk-3-12');
  }, 60_000);
});
