import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { copyProgramsForAnyone, type ProgramCopy } from '@lifeline/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../packages/relay/src/ssh/password-hash.js';
import { LifelineProcess, agentNode } from './support/lifeline-process.js';
import { requireProgram } from './support/programs.js';
import { openConsole } from './support/ssh2-console.js';
import { waitFor } from './support/wait.js';

const exec = promisify(execFile);

// The relay and the agent run as an unprivileged system user, installed as docs/operations.md
// says, without systemd: config in a root-owned folder (root:USER 0750, files 0640) they may only
// read, state folders they own (0700), the admin socket in a runtime folder they own. setpriv
// stands in for the unit's User=/Group=. Everything they need to run is copied where that user
// may read it (the checkout may be private).

/** Files (not folders) owned by `uid` under `roots`, as paths. */
async function filesOwnedBy(uid: number, roots: string[]): Promise<string[]> {
  const existing = roots.filter((r) => spawnSync('test', ['-d', r]).status === 0);
  const { stdout } = await exec('find', [...existing, '-xdev', '-uid', String(uid), '-not', '-type', 'd'], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return stdout.split('\n').filter(Boolean);
}

describe('relay and agent as an unprivileged user, installed as documented (no systemd)', () => {
  const user = `lltest${randomBytes(3).toString('hex')}`;
  let uid = 0;
  let gid = 0;
  let programs: ProgramCopy;
  let base: string;
  let etc: string;
  let relayState: string;
  let agentState: string;
  let runtime: string;
  const daemons: LifelineProcess[] = [];

  const asUser = () => ['setpriv', '--reuid', user, '--regid', user, '--init-groups'];
  /** The copied program's Node.js as production has it: the relay on this test's own (24), the agent on agentNode (20). */
  const nodeOf = (bin: string) => programs.runnable(bin === programs.agentBin ? agentNode : process.execPath);
  const start = (bin: string, args: string[]) => {
    const daemon = LifelineProcess.start(bin, args, { prefix: asUser(), node: nodeOf(bin) });
    daemons.push(daemon);
    return daemon;
  };
  const runAsUser = (bin: string, args: string[]) => {
    const result = spawnSync(asUser()[0]!, [...asUser().slice(1), nodeOf(bin), bin, ...args], { timeout: 20_000 });
    return { code: result.status, out: result.stdout.toString(), err: result.stderr.toString() };
  };

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test makes a system user: run it as root (CI does)');
    for (const program of ['useradd', 'userdel', 'setpriv']) requireProgram(program);
    await exec('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      user,
    ]);
    uid = Number((await exec('id', ['-u', user])).stdout);
    gid = Number((await exec('id', ['-g', user])).stdout);
    programs = await copyProgramsForAnyone(undefined, [process.execPath, agentNode]);

    base = await mkdtemp(join(tmpdir(), 'lifeline-install-'));
    await chmod(base, 0o755);
    etc = join(base, 'etc/lifeline');
    relayState = join(base, 'var/lib/lifeline-relay');
    agentState = join(base, 'var/lib/lifeline-agent');
    runtime = join(base, 'run/lifeline');
    await mkdir(etc, { recursive: true, mode: 0o755 });
    await chown(etc, 0, gid);
    await chmod(etc, 0o750);
    for (const dir of [relayState, agentState, runtime]) {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await chown(dir, uid, gid);
    }
    await chmod(relayState, 0o700);
    await chmod(agentState, 0o700);
  }, 60_000);

  afterAll(async () => {
    for (const daemon of daemons) await daemon.stop();
    await programs?.remove();
    if (base) await rm(base, { recursive: true, force: true });
    spawnSync('userdel', [user]);
    spawnSync('groupdel', [user]);
  });

  /** A root-owned config file the user may only read (root:USER 0640). */
  async function writeConfig(name: string, lines: string[]): Promise<string> {
    const file = join(etc, name);
    await writeFile(file, `${lines.join('\n')}\n`);
    await chown(file, 0, gid);
    await chmod(file, 0o640);
    return file;
  }

  it('starts, serves a login through a real agent, records it, answers admin commands, and writes only to its folders', async () => {
    const fakePin = `SHA256:${'A'.repeat(43)}`;
    const agentLines = (pin: string, port = 443) => [
      `relay: { host: 127.0.0.1, port: ${port}, hostKey: "${pin}" }`,
      'device: rtr-1',
      `stateDir: ${agentState}`,
      'console: { type: sim, hostname: rtr-1 }',
      'reconnect: { baseMs: 100, capMs: 1000 }',
    ];
    let agentFile = await writeConfig('agent.yaml', agentLines(fakePin));
    // Enrolment as documented: the agent's key, made in its state folder.
    const pubkey = runAsUser(programs.agentBin, ['pubkey', '--generate', '--config', agentFile]);
    expect(pubkey.err).toBe('');
    expect(pubkey.code).toBe(0);
    expect((await stat(join(agentState, 'agent_ed25519'))).uid).toBe(uid);

    const relayFile = await writeConfig('relay.yaml', [
      'listen: { host: 127.0.0.1, port: 0 }',
      `stateDir: ${relayState}`,
      `adminSocket: ${join(runtime, 'relay.sock')}`,
      'auth: { failureDelayMs: 50 }',
      'users:',
      `  - { name: alice, password: "${await hashPassword('alice-secret', { N: 2 ** 10, r: 8, p: 1 })}", devices: [rtr-1] }`,
      'devices:',
      `  - { id: rtr-1, agentKey: "${pubkey.out.trim()}" }`,
    ]);
    const check = runAsUser(programs.relayBin, ['check', '--config', relayFile]);
    expect(check.err).toBe('');
    expect(check.out).toMatch(/^ok: /);
    expect(await readdir(relayState)).toEqual([]);

    const relay = start(programs.relayBin, ['run', '--config', relayFile]);
    const listening = await relay.waitForLog('relay listening', (l) => l.event === 'relay.listening');
    agentFile = await writeConfig('agent.yaml', agentLines(listening.hostKeyFingerprint as string, listening.port as number));
    const agent = start(programs.agentBin, ['run', '--config', agentFile]);
    await agent.waitForLog('agent console stream attached', (l) => l.event === 'console.stream.attached');

    const c = await openConsole({ port: listening.port as number, user: 'alice', password: 'alice-secret' });
    c.write('show version\r');
    await c.waitForOutput(/lifeline simulated IOS/i);
    const sessions = runAsUser(programs.relayBin, ['sessions', '--config', relayFile]);
    expect(sessions.err).toBe('');
    expect(sessions.code).toBe(0);
    expect(sessions.out).toMatch(/^rtr-1\s+alice\b/m);
    c.end();
    await c.closed;

    const recordings = await waitFor('a recording in stateDir', async () => {
      const found = await filesOwnedBy(uid, [join(relayState, 'recordings')]);
      return found.some((f) => f.endsWith('.cast')) ? found : undefined;
    });
    expect(recordings.length).toBeGreaterThan(0);
    const listed = runAsUser(programs.relayBin, ['recordings', '--config', relayFile]);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(basename(recordings.find((f) => f.endsWith('.cast'))!));

    // Everything the user made is in its state folders or the runtime folder; the config folder is as root left it.
    const made = await filesOwnedBy(uid, [base, '/tmp', '/var/tmp', '/dev/shm', '/run', '/var/lib', '/home', '/root']);
    const outside = made.filter((f) => ![relayState, agentState, runtime].some((dir) => f.startsWith(`${dir}/`)));
    expect(outside).toEqual([]);
    expect(made).toEqual(
      expect.arrayContaining([join(relayState, 'relay_host_ed25519'), join(agentState, 'agent_ed25519'), join(runtime, 'relay.sock')]),
    );
    expect((await readdir(etc)).sort()).toEqual(['agent.yaml', 'relay.yaml']);
  }, 90_000);

  it('cannot bind port 443 without the capability: one line and exit 77', async () => {
    const file = await writeConfig('relay-443.yaml', [
      'listen: { host: 127.0.0.1, port: 443 }',
      `stateDir: ${relayState}`,
      `adminSocket: ${join(runtime, 'other.sock')}`,
    ]);
    const result = runAsUser(programs.relayBin, ['run', '--config', file]);
    expect(result.err).toBe('lifeline-relay: port 443 needs CAP_NET_BIND_SERVICE or a port above 1023\n');
    expect(result.code).toBe(77);
    expect(await readdir(runtime)).not.toContain('other.sock');
  });

  it('says which folder it cannot create when the state folder is not its own: exit 73', async () => {
    const file = await writeConfig('relay-etc.yaml', [
      'listen: { host: 127.0.0.1, port: 0 }',
      `stateDir: ${join(etc, 'state')}`,
      `adminSocket: ${join(runtime, 'x.sock')}`,
    ]);
    const result = runAsUser(programs.relayBin, ['run', '--config', file]);
    expect(result.err.split('\n')[0]).toBe(
      `lifeline-relay: ${file}: stateDir: cannot create ${join(etc, 'state')}: EACCES (permission denied on ${etc})`,
    );
    expect(result.code).toBe(73);
  });
});
