import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateKey } from '@lifeline/shared';
import { startPostgres } from '../../packages/relay/src/inventory/testing/postgres-server.js';
import { LifelineProcess } from '../support/lifeline-process.js';
import { agentBin, BenchSite, profilingArgs, relayConfig, startRelay } from './bench-site.js';
import { serialFarEnd, type FarEnd } from './far-ends.js';
import { ready } from './latency-bench.js';
import { nowMs, percentiles, type Percentiles } from './marker-clock.js';
import { ssh2Person, type PersonClient } from './person-clients.js';
import { freePort } from './storm-bench.js';

export interface GroupConsoleRow {
  keystrokes: number;
  /** A byte typed by the person until the device read it, through a relay alone. */
  keystrokeOneRelayMs: Percentiles;
  /** The same through the second relay of a group of two (the agent was told only of the first). */
  keystrokeGroupMemberMs: Percentiles;
  /**
   * SIGKILL of the relay whose person was writing, until a keystroke typed over and over (every
   * 100 ms) by a person attached through the other relay reached the device.
   */
  otherRelayWritesAfterKillSeconds: number;
}

/** A person types `count` single bytes, `gapMs` apart; each is timed until the device has read it. */
async function keystrokeLatency(person: PersonClient, device: FarEnd, count: number, gapMs: number): Promise<Percentiles> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const byte = Buffer.from([0x61 + (i % 26)]);
    const sentAt = nowMs();
    await person.write(byte);
    const got = await device.readExactly(1, 10_000);
    if (!got.equals(byte))
      throw new Error(`the device read ${JSON.stringify(got.toString('latin1'))}, not the keystroke ${byte.toString()}`);
    times.push(nowMs() - sentAt);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return percentiles(times);
}

/**
 * The person types a return until the device reads one (the person may have to wait for read-write
 * to pass to them), then whatever else of those returns is still on its way is read off.
 */
async function typeUntilItReaches(person: PersonClient, device: FarEnd, timeoutMs: number): Promise<void> {
  const until = nowMs() + timeoutMs;
  for (;;) {
    await person.write(Buffer.from('\r'));
    try {
      await device.readExactly(1, 500);
      break;
    } catch (err) {
      if (nowMs() > until) throw new Error(`no keystroke reached the device in ${timeoutMs} ms (${person.status()})`, { cause: err });
    }
  }
  for (;;) {
    try {
      await device.readExactly(1, 500);
    } catch {
      return;
    }
  }
}

/**
 * Keystroke latency through a relay alone and through a member of a relay group (the design has
 * no relay-to-relay hop: every member has its own tunnel to the agent), and what SIGKILL of the
 * writing person's relay does to a person on another member: how long until their typing reaches
 * the device. Real relays, a real agent on a socat pty, a real PostgreSQL.
 */
export async function groupConsole(dir: string, count: number, gapMs: number, progress: (line: string) => void): Promise<GroupConsoleRow> {
  progress('group console: keystroke latency through a relay alone');
  const aloneDir = join(dir, 'alone');
  await mkdir(aloneDir, { recursive: true });
  const aloneDevice = await serialFarEnd(aloneDir);
  let keystrokeOneRelayMs: Percentiles;
  const site = await BenchSite.start(aloneDir, aloneDevice);
  try {
    const person = await ssh2Person({ port: site.port, user: 'alice', privateKey: site.personKey.privateKey, onData: () => {} });
    try {
      await ready(person, aloneDevice);
      keystrokeOneRelayMs = await keystrokeLatency(person, aloneDevice, count, gapMs);
    } finally {
      await person.close();
    }
  } finally {
    await site.stop();
    await aloneDevice.close();
  }

  progress('group console: PostgreSQL, two relays, an agent told of the first');
  const pg = await startPostgres();
  const device = await serialFarEnd(dir);
  const relays: Array<Awaited<ReturnType<typeof startRelay>>> = [];
  const people: PersonClient[] = [];
  let agent: LifelineProcess | undefined;
  try {
    const database = await pg.createDatabase();
    const personKey = await loadOrCreateKey(join(dir, 'person_ed25519'), 'bench@person');
    const agentKey = await loadOrCreateKey(join(dir, 'agent_ed25519'), 'agent@rtr-1');
    for (const name of ['a', 'b']) {
      const folder = join(dir, name);
      await mkdir(folder, { recursive: true });
      const config = relayConfig({
        personKey: personKey.publicKeyLine,
        devices: [{ id: 'rtr-1', agentKey: agentKey.publicKeyLine }],
        extra: [
          `hostKeyFile: ${join(dir, 'group_host_ed25519')}`,
          `store: { type: postgres, host: 127.0.0.1, port: ${pg.port}, database: ${database}, user: postgres }`,
          'group: { advertise: { host: 127.0.0.1 } }',
        ],
      }).replace('port: 0', `port: ${await freePort()}`);
      relays.push(await startRelay(folder, config));
    }
    const [a, b] = relays as [(typeof relays)[0], (typeof relays)[0]];
    const agentFile = join(dir, 'agent.yaml');
    await writeFile(
      agentFile,
      [
        `relay: { host: 127.0.0.1, port: ${a.port}, hostKey: "${a.fingerprint}" }`,
        'device: rtr-1',
        'stateDir: .',
        `console: ${device.agentConsole}`,
        'reconnect: { baseMs: 100, capMs: 1000 }',
        'consoleRetryMs: 200',
      ].join('\n'),
    );
    agent = LifelineProcess.start(agentBin, ['run', '--config', agentFile], profilingArgs.length ? { nodeArgs: profilingArgs } : {});
    const connected = (port: number) => (l: { event?: unknown; to?: unknown; relay?: unknown }) =>
      l.event === 'tunnel.state' && l.to === 'connected' && l.relay === `127.0.0.1:${port}`;
    await agent.waitForLog('tunnel to relay a', connected(a.port), 30_000);
    await agent.waitForLog('tunnel to relay b (learnt from a)', connected(b.port), 30_000);

    progress('group console: keystroke latency through the second relay');
    const open = (port: number) => ssh2Person({ port, user: 'alice', privateKey: personKey.privateKey, onData: () => {} });
    const onB = await open(b.port);
    people.push(onB);
    await ready(onB, device);
    const keystrokeGroupMemberMs = await keystrokeLatency(onB, device, count, gapMs);
    await onB.close();
    people.length = 0;

    progress("group console: SIGKILL of the writing person's relay");
    const writer = await open(a.port);
    people.push(writer);
    await typeUntilItReaches(writer, device, 60_000);
    const other = await open(b.port);
    people.push(other);
    const killedAt = nowMs();
    a.relay.child.kill('SIGKILL');
    let reached = false;
    const typing = (async () => {
      while (!reached) {
        await other.write(Buffer.from('k'));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const got = await device.readExactly(1, 120_000);
    if (got.toString('latin1') !== 'k')
      throw new Error(`the device read ${JSON.stringify(got.toString('latin1'))} after the SIGKILL, not the other person's k`);
    const otherRelayWritesAfterKillSeconds = (nowMs() - killedAt) / 1000;
    reached = true;
    await typing;
    progress(`group console: a person on the other relay writes ${otherRelayWritesAfterKillSeconds.toFixed(2)} s after the SIGKILL`);
    return { keystrokes: count, keystrokeOneRelayMs, keystrokeGroupMemberMs, otherRelayWritesAfterKillSeconds };
  } finally {
    await Promise.all(people.map((p) => p.close().catch(() => {})));
    await agent?.stop();
    await Promise.all(relays.map((r) => r.relay.stop()));
    await device.close();
    await pg.destroy();
  }
}
