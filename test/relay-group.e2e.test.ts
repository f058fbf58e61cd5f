import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { loadOrCreateKey } from '@lifeline/shared';
import { startPostgres, type PostgresServer } from '../packages/relay/src/inventory/testing/postgres-server.js';
import { hashPassword } from '../packages/relay/src/ssh/password-hash.js';
import { LifelineProcess, agentBin, relayBin, type LogLine } from './support/lifeline-process.js';
import { openConsole, type ConsoleClient } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

// Relay groups (issue 12), first slice: three relays share one real PostgreSQL and one host key;
// an agent told about one of them keeps a tunnel to every member. Short heartbeat, expiry and
// health intervals keep the suite quick.

const run = promisify(execFile);
const HEALTH_INTERVAL_MS = 2_000;
const EXPIRY_MS = 1_500;
const INPUT_HOLD_MS = 1_500;

let pg: PostgresServer;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.destroy();
});

let dir: Awaited<ReturnType<typeof makeTempDir>>;
const started: LifelineProcess[] = [];
const people: ConsoleClient[] = [];
beforeEach(async () => {
  dir = await makeTempDir('e2e-group');
});
afterEach(async () => {
  for (const person of people.splice(0)) person.end();
  await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
  await dir.remove();
});

interface Relay {
  name: string;
  process: LifelineProcess;
  port: number;
  /** As the group advertises it, and as `devices` lists it. */
  address: string;
  config: string;
}

interface Group {
  database: string;
  hostKeyFile: string;
  fingerprint: string;
  agentKeyLine: string;
  userLine: string;
}

async function makeGroup(): Promise<Group> {
  const database = await pg.createDatabase();
  const hostKeyFile = join(dir.path, 'group_host_ed25519');
  const hostKey = await loadOrCreateKey(hostKeyFile, 'lifeline-relay');
  const agentKey = await loadOrCreateKey(join(dir.path, 'agent', 'agent_ed25519'), 'agent@rtr-1');
  const hash = await hashPassword('alice-secret', { N: 2 ** 10, r: 8, p: 1 });
  return {
    database,
    hostKeyFile,
    fingerprint: hostKey.fingerprint,
    agentKeyLine: agentKey.publicKeyLine,
    userLine: `  - { name: alice, password: "${hash}", devices: [rtr-1], role: engineer }`,
  };
}

async function startRelay(group: Group, name: string, hostKeyFile = group.hostKeyFile): Promise<LifelineProcess> {
  const folder = join(dir.path, name);
  await mkdir(folder, { recursive: true });
  const config = join(folder, 'relay.yaml');
  await writeFile(
    config,
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      'stateDir: .',
      'adminSocket: relay.sock',
      `hostKeyFile: ${hostKeyFile}`,
      'auth: { failureDelayMs: 50 }',
      `store: { type: postgres, host: 127.0.0.1, port: ${pg.port}, database: ${group.database}, user: postgres }`,
      `group: { advertise: { host: 127.0.0.1 }, heartbeatMs: 300, expiryMs: ${EXPIRY_MS}, presenceFlushMs: 50 }`,
      'users:',
      group.userLine,
      'devices:',
      `  - { id: rtr-1, agentKey: "${group.agentKeyLine}" }`,
      '',
    ].join('\n'),
  );
  const relay = LifelineProcess.start(relayBin, ['run', '--config', config]);
  started.push(relay);
  return relay;
}

async function startMember(group: Group, name: string): Promise<Relay> {
  const process = await startRelay(group, name);
  const listening = await process.waitForLog(`${name} listening`, (l) => l.event === 'relay.listening');
  const port = listening.port as number;
  return { name, process, port, address: `127.0.0.1:${port}`, config: join(dir.path, name, 'relay.yaml') };
}

async function startAgent(group: Group, relay: { port: number }): Promise<LifelineProcess> {
  const config = join(dir.path, 'agent', 'agent.yaml');
  await writeFile(
    config,
    [
      `relay: { host: 127.0.0.1, port: ${relay.port}, hostKey: "${group.fingerprint}" }`,
      'device: rtr-1',
      'console: { type: sim, hostname: rtr-1 }',
      'stateDir: .',
      'reconnect: { baseMs: 100, capMs: 1000 }',
      `health: { intervalMs: ${HEALTH_INTERVAL_MS}, timeoutMs: 1000 }`,
      `inputHoldMs: ${INPUT_HOLD_MS}`,
      'consoleRetryMs: 200',
      '',
    ].join('\n'),
  );
  const agent = LifelineProcess.start(agentBin, ['run', '--config', config]);
  started.push(agent);
  return agent;
}

/** `lifeline-relay devices --json` on `relay`: which relays hold rtr-1's tunnels. */
async function relaysOfDevice(relay: Relay): Promise<string[] | null | undefined> {
  const { stdout } = await run(process.execPath, [relayBin, 'devices', '--config', relay.config, '--json'], { timeout: 30_000 });
  const devices = JSON.parse(stdout) as Array<{ deviceId: string; relays?: string[] | null }>;
  return devices.find((d) => d.deviceId === 'rtr-1')?.relays;
}

async function waitForRelays(relay: Relay, expected: string[], timeoutMs = 30_000): Promise<void> {
  let last: unknown;
  await waitFor(
    () => `devices on ${relay.name} listing rtr-1 on ${expected.join(', ')} (last: ${JSON.stringify(last)})`,
    async () => {
      last = await relaysOfDevice(relay).catch((err: Error) => err.message);
      return Array.isArray(last) && [...last].sort().join() === [...expected].sort().join() ? true : undefined;
    },
    timeoutMs,
    // Each look is a CLI process: not too often.
    250,
  );
}

const linkConnected = (relay: Relay) => (l: LogLine) => l.event === 'tunnel.state' && l.to === 'connected' && l.relay === relay.address;

async function login(relay: Relay): Promise<ConsoleClient> {
  const person = await openConsole({ port: relay.port, user: 'alice', password: 'alice-secret' });
  people.push(person);
  person.write('\r');
  await person.waitForOutput('rtr-1>');
  return person;
}

/**
 * Runs `command` on `relay` logged in as another member (`lifeline-relay`) with `privateKey`:
 * its stdout, stderr and exit code; rejects when the login or the request is refused.
 */
async function peerExec(relay: Relay, privateKey: Buffer, command: string): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const client = new ssh2.Client();
  try {
    return await new Promise((resolve, reject) => {
      client.on('error', reject);
      client.on('ready', () =>
        client.exec(command, (err, stream) => {
          if (err) return reject(err);
          let stdout = '';
          let stderr = '';
          let code: number | undefined;
          stream.on('data', (d: Buffer) => (stdout += d.toString()));
          stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          stream.on('exit', (c: number | null) => (code = c ?? undefined));
          stream.on('close', () => resolve({ code, stdout, stderr }));
        }),
      );
      client.connect({ host: '127.0.0.1', port: relay.port, username: 'lifeline-relay', privateKey, readyTimeout: 10_000 });
    });
  } finally {
    client.end();
  }
}

/** Relays A and B, and an agent told about A only that has reached both (B through A's notice). */
async function twoMembersAndAgent(): Promise<{ group: Group; a: Relay; b: Relay; agent: LifelineProcess }> {
  const group = await makeGroup();
  const a = await startMember(group, 'a');
  const b = await startMember(group, 'b');
  const agent = await startAgent(group, a);
  await agent.waitForLog('tunnel to A', linkConnected(a));
  await agent.waitForLog('tunnel to B', linkConnected(b));
  return { group, a, b, agent };
}

describe('a relay group of three relays sharing one PostgreSQL and one host key', () => {
  it('gets an agent configured with one address onto every member, shows them in devices, and survives losing a member', async () => {
    // Told about A only, the agent reaches B through the notice A sends.
    const { group, a, b, agent } = await twoMembersAndAgent();
    await waitForRelays(b, [a.address, b.address]);

    // A relay that joins later, while a person on B works the console, is dialled within one
    // health-check interval, and the person notices nothing.
    const person = await login(b);
    const logsBefore = agent.logs.length;
    const c = await startMember(group, 'c');
    const joinedAt = Date.now();
    await agent.waitForLog('tunnel to C', linkConnected(c), HEALTH_INTERVAL_MS);
    expect(Date.now() - joinedAt).toBeLessThan(HEALTH_INTERVAL_MS);
    await waitForRelays(b, [a.address, b.address, c.address]);
    await waitForRelays(a, [a.address, b.address, c.address]);

    // The agent remembers the members for the next start, in a file only it may read.
    const memory = join(dir.path, 'agent', 'relay-group.json');
    await waitFor(
      () => 'three members remembered',
      async () => ((await readFile(memory, 'utf8').catch(() => '')).includes(`"port":${c.port}`) ? true : undefined),
      5_000,
    );
    expect((await stat(memory)).mode & 0o777).toBe(0o600);

    person.write('show clock\r');
    await person.waitForOutput(/show clock[\s\S]*rtr-1>/);

    // The person on B works the console while C, which only holds a tunnel, is killed.
    c.process.child.kill('SIGKILL');
    person.write('show version\r');
    await person.waitForOutput(/simulated IOS/i);
    // C expires from the group: the agent drops it and devices no longer lists it.
    await agent.waitForLog('C dropped', (l) => l.event === 'group.link-dropped' && l.relay === c.address, EXPIRY_MS * 4);
    await waitForRelays(b, [a.address, b.address]);
    person.write('show clock\r');
    await waitFor('a second show clock answered', () => (person.output().match(/show clock[^>]*rtr-1>/g)?.length ?? 0) >= 2, 10_000);
    // Through C's joining and death, the tunnels to A and B never dropped, and the person saw no notice.
    const dropped = agent.logs
      .slice(logsBefore)
      .filter((l) => l.event === 'tunnel.state' && l.from === 'connected' && (l.relay === a.address || l.relay === b.address));
    expect(dropped).toEqual([]);
    expect(person.output()).not.toMatch(/lost|offline|lifeline:/i);

    // After a reboot with the configured relay (A) gone, the remembered members still reach the group.
    await agent.stop();
    await a.process.stop();
    const again = await startAgent(group, a);
    await again.waitForLog('tunnel to B after restart', linkConnected(b), 10_000);
    await waitForRelays(b, [b.address]);
  }, 150_000);

  it('takes console input from one relay at a time and tells the person on the other relay why', async () => {
    const { a, b, agent } = await twoMembersAndAgent();
    const onA = await login(a);
    const onB = await login(b);
    // The login's Return came from B last: wait until that hold is over, then A types.
    await new Promise((resolve) => setTimeout(resolve, INPUT_HOLD_MS + 200));
    onA.write('show ver');
    await onA.waitForOutput('show ver');
    // Both relays get the output: the person on B sees what A types.
    await onB.waitForOutput('show ver');
    const notice = /input not sent: a person on another relay of the group \(127\.0\.0\.1:\d+\) is typing on this console/g;
    const noticesBefore = onB.output().match(notice)?.length ?? 0;
    onB.write('XYZ');
    await waitFor('a notice on B', () => (onB.output().match(notice)?.length ?? 0) === noticesBefore + 1, 5_000);
    onA.write('sion\r');
    await onA.waitForOutput(/simulated IOS/i);
    expect(onA.output()).not.toContain('XYZ');
    await agent.waitForLog('refusal logged', (l) => l.event === 'console.input-refused');
    // Once A has been quiet for inputHoldMs, B may type.
    await new Promise((resolve) => setTimeout(resolve, INPUT_HOLD_MS + 200));
    onB.write('show clock\r');
    await onB.waitForOutput(/rtr-1>show clock/);
    await onA.waitForOutput(/rtr-1>show clock/);
  }, 60_000);

  it("lists the whole group's live sessions on any member, each with the member hosting it, and drops a dead member's", async () => {
    const { a, b } = await twoMembersAndAgent();
    await login(a);
    const sessionsOn = async (relay: Relay) => {
      const { stdout } = await run(process.execPath, [relayBin, 'sessions', '--config', relay.config, '--json'], { timeout: 30_000 });
      return JSON.parse(stdout) as Array<{ deviceId: string; writer?: string; viewers: string[]; relay?: string }>;
    };
    // Asked on B, where nobody is attached: alice's session on A, named by A's address.
    let last: unknown;
    await waitFor(
      () => `sessions on B listing alice on A (last: ${JSON.stringify(last)})`,
      async () => {
        const list = await sessionsOn(b);
        last = list;
        return list.length === 1 && list[0]!.deviceId === 'rtr-1' && list[0]!.writer === 'alice' && list[0]!.relay === a.address
          ? true
          : undefined;
      },
      15_000,
      250,
    );
    // A lists it too, as its own; the table shows the RELAY column.
    expect((await sessionsOn(a)).map((s) => [s.deviceId, s.writer, s.relay])).toEqual([['rtr-1', 'alice', a.address]]);
    const { stdout: table } = await run(process.execPath, [relayBin, 'sessions', '--config', b.config], { timeout: 30_000 });
    expect(table).toMatch(/^DEVICE\s+WRITER\s+VIEWERS\s+SINCE\s+IN\s+OUT\s+RELAY\n/);
    expect(table).toContain(a.address);

    // A person joins on B as well: each member's row, the writer on A, a read-only viewer on B.
    const onB = await openConsole({ port: b.port, user: 'alice', password: 'alice-secret' });
    people.push(onB);
    // Who is attached (escape key, then w), asked on B: the person on A too, with A's address.
    await waitFor(
      'who on B names the person on A',
      async () => {
        onB.write('\x1dw');
        await new Promise((resolve) => setTimeout(resolve, 300));
        return new RegExp(`alice: read-write, since .* UTC, from 127\\.0\\.0\\.1:\\d+, on relay ${a.address.replace(/\./g, '\\.')}`).test(
          onB.output(),
        )
          ? true
          : undefined;
      },
      15_000,
    );
    expect(onB.output()).toMatch(/alice \(you\): /);
    await waitFor(
      () => `two sessions of rtr-1 (last: ${JSON.stringify(last)})`,
      async () => {
        const list = await sessionsOn(b);
        last = list;
        return list.length === 2 && list.some((s) => s.relay === b.address) ? true : undefined;
      },
      15_000,
      250,
    );

    // A dies: once it has expired from the group, its session is no longer listed.
    a.process.child.kill('SIGKILL');
    await waitFor(
      () => `A's session gone from B's list (last: ${JSON.stringify(last)})`,
      async () => {
        const list = await sessionsOn(b);
        last = list;
        return list.length === 1 && list[0]!.relay === b.address ? true : undefined;
      },
      EXPIRY_MS * 4 + 10_000,
      250,
    );
  }, 90_000);

  it("lists the whole group's recordings on any member, with the member whose disk holds each, and replays them on any member", async () => {
    const { group, a, b } = await twoMembersAndAgent();
    const person = await login(a);
    person.write('show clock\r');
    await person.waitForOutput(/show clock[\s\S]*rtr-1>/);
    person.end();
    await a.process.waitForLog('the session on A ended', (l) => l.event === 'session.end' && 'bytesOut' in l);
    type Listed = { relay: string; path: string; deviceId: string; user: string; durationSeconds?: number; sizeBytes?: number };
    const recordingsOn = async (relay: Relay, ...args: string[]) => {
      const { stdout } = await run(process.execPath, [relayBin, 'recordings', '--config', relay.config, '--json', ...args], {
        timeout: 30_000,
      });
      return JSON.parse(stdout) as Listed[];
    };
    let last: unknown;
    // Asked on B: alice's recording on A's disk, completed (its duration and size) once it closed.
    const listed = await waitFor(
      () => `recordings on B listing alice's on A, closed (last: ${JSON.stringify(last)})`,
      async () => {
        const list = await recordingsOn(b);
        last = list;
        return list.length === 1 && list[0]!.relay === a.address && list[0]!.sizeBytes !== undefined ? list[0] : undefined;
      },
      15_000,
      250,
    );
    expect(listed).toMatchObject({ deviceId: 'rtr-1', user: 'alice' });
    expect(listed.path.startsWith(join(dir.path, 'a'))).toBe(true);
    expect((await stat(listed.path)).size).toBe(listed.sizeBytes);
    expect(listed.durationSeconds).toBeGreaterThan(0);
    // Filters reach the index; the table names the member.
    expect(await recordingsOn(b, '--user', 'nobody')).toEqual([]);
    expect((await recordingsOn(b, '--device', 'rtr-1')).length).toBe(1);
    const { stdout: table } = await run(process.execPath, [relayBin, 'recordings', '--config', b.config], { timeout: 30_000 });
    expect(table).toMatch(/^STARTED \(UTC\)\s+DEVICE\s+USER\s+DURATION\s+SIZE\s+RELAY\s+PATH\n/);
    expect(table).toContain(a.address);

    // Replayed on B: the index names A, which sends the file over SSH to B's CLI, logged in as
    // lifeline-relay with the group's host key (and A's key pinned to the same key).
    const replay = await run(process.execPath, [relayBin, 'replay', listed.path, '--config', b.config, '--dump'], { timeout: 30_000 });
    expect(replay.stdout).toMatch(/show clock[\s\S]*rtr-1>/);
    expect(replay.stderr).toContain(`${listed.path} is on ${a.address}; fetching it from there`);
    await a.process.waitForLog('A sent the recording', (l) => l.event === 'peer.recording' && l.path === listed.path);

    // A member lends its recordings to the group's key alone, and nothing but its recordings.
    const groupKey = await loadOrCreateKey(group.hostKeyFile, 'lifeline-relay');
    const strangerKey = await loadOrCreateKey(join(dir.path, 'stranger_ed25519'), 'stranger');
    await expect(peerExec(a, strangerKey.privateKey, `recording ${listed.path}`)).rejects.toThrow(/authentication/i);
    await writeFile(join(dir.path, 'outside.cast'), 'not a recording of this relay\n');
    expect(await peerExec(a, groupKey.privateKey, `recording ${join(dir.path, 'outside.cast')}`)).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('not a recording of this relay'),
    });
    expect(await peerExec(a, groupKey.privateKey, 'recording /etc/passwd')).toMatchObject({ code: 1, stderr: expect.stringContaining('not a recording path') });
    await expect(peerExec(a, groupKey.privateKey, 'cat /etc/passwd')).rejects.toThrow(/unable to exec/i);
    expect(await peerExec(a, groupKey.privateKey, `recording ${listed.path}`)).toMatchObject({ code: 0, stdout: expect.stringContaining('"version":2') });

    // B stopped: its CLI says the index needs the running relay and lists its own folder (empty).
    await b.process.stop();
    const alone = await run(process.execPath, [relayBin, 'recordings', '--config', b.config, '--json'], { timeout: 30_000 });
    expect(JSON.parse(alone.stdout)).toEqual([]);
    expect(alone.stderr).toContain("recordings: the group's index needs the running relay");
  }, 90_000);

  it('keeps sessions, tunnels and new logins through a PostgreSQL outage longer than the expiry, and repairs the group when it is back', async () => {
    const { a, b, agent } = await twoMembersAndAgent();
    await waitForRelays(b, [a.address, b.address]);
    const onA = await login(a);
    const logsBefore = agent.logs.length;
    await pg.stop();
    try {
      // Three times the expiry: nobody may conclude that a member died from a database that is away.
      await a.process.waitForLog('A notices the outage', (l) => l.event === 'group.unavailable', 10_000);
      await new Promise((resolve) => setTimeout(resolve, EXPIRY_MS * 3));
      // The running session goes on.
      onA.write('show clock\r');
      await onA.waitForOutput(/show clock[\s\S]*rtr-1>/);
      // A new login works on the other member, from its last known inventory.
      const onB = await login(b);
      await new Promise((resolve) => setTimeout(resolve, INPUT_HOLD_MS + 200));
      onB.write('show version\r');
      await onB.waitForOutput(/simulated IOS/i);
      // What needs the database says so: devices on B cannot tell which members hold tunnels.
      expect(await relaysOfDevice(b)).toBeNull();
    } finally {
      await pg.start();
    }
    // Repaired: both members listed again, and the agent's tunnels never dropped.
    await waitForRelays(b, [a.address, b.address]);
    await a.process.waitForLog('A sees the database back', (l) => l.event === 'group.available', 20_000);
    const dropped = agent.logs.slice(logsBefore).filter((l) => l.event === 'tunnel.state' && l.from === 'connected');
    expect(dropped).toEqual([]);
    expect(onA.output()).not.toMatch(/lost|offline/i);
    // Every component names itself once in the logs, the group's and the store's included.
    for (const process of [a.process, b.process, agent]) expect(process.repeatedFields).toEqual([]);
  }, 90_000);

  it("writes a device's console log once for the group, on one member, and on another once that one is gone", async () => {
    const { a, b } = await twoMembersAndAgent();
    const logOf = (relay: Relay) => readFile(join(dir.path, relay.name, 'console-logs', 'rtr-1.log'), 'utf8').catch(() => '');
    const onA = await login(a);
    onA.write('show clock\r');
    await onA.waitForOutput(/show clock[\s\S]*rtr-1>/);
    // The output reached both members; exactly one wrote it to its log.
    let writer: Relay | undefined;
    await waitFor(
      'one member writes the log',
      async () => {
        const [onDiskA, onDiskB] = [await logOf(a), await logOf(b)];
        if (onDiskA.includes('show clock') && !onDiskB.includes('show clock')) writer = a;
        if (onDiskB.includes('show clock') && !onDiskA.includes('show clock')) writer = b;
        return writer;
      },
      10_000,
    );
    const other = writer === a ? b : a;
    expect(await logOf(other)).not.toContain('show clock');

    // The writer dies: once it has expired, the other member writes the log.
    writer!.process.child.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, EXPIRY_MS * 3));
    const person = other === a ? onA : await login(other);
    await new Promise((resolve) => setTimeout(resolve, INPUT_HOLD_MS + 200));
    person.write('show version\r');
    await person.waitForOutput(/simulated IOS/i);
    await waitFor(
      'the other member writes the log now',
      async () => ((await logOf(other)).includes('simulated IOS') ? true : undefined),
      10_000,
    );
    expect(await logOf(other)).not.toContain('show clock');
    // Where the writing resumed is in the log, and (the first writer's) where it began.
    expect(await logOf(other)).toContain(`relay ${other.address} writes this log from here`);
    expect(await logOf(writer!)).toContain(`relay ${writer!.address} writes this log from here`);
  }, 90_000);

  it('refuses a relay whose host key differs from the group, in one line, exit 78', async () => {
    const group = await makeGroup();
    await startMember(group, 'a');
    const otherKey = join(dir.path, 'other_host_ed25519');
    const other = await loadOrCreateKey(otherKey, 'lifeline-relay');
    const relay = await startRelay(group, 'x', otherKey);
    expect(await relay.waitForExit(20_000)).toBe(78);
    expect(relay.stderr).toMatch(
      new RegExp(
        `^lifeline-relay: .*x/relay\\.yaml: group: this relay's host key ${other.fingerprint.replace(/[+/]/g, '\\$&')} differs from the group's ${group.fingerprint.replace(/[+/]/g, '\\$&')} \\(members 127\\.0\\.0\\.1:\\d+\\): every relay of a group serves the same host key; copy hostKeyFile from a member\\n$`,
      ),
    );
  }, 60_000);
});
