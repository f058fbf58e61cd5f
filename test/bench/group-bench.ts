import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { generateParsableEd25519, loadOrCreateKey } from '@lifeline/shared';
import { startPostgres } from '../../packages/relay/src/inventory/testing/postgres-server.js';
import { waitFor } from '../support/wait.js';
import { relayConfig, startRelay } from './bench-site.js';
import { nowMs } from './marker-clock.js';
import { memoryOf } from './process-memory.js';
import { Fleet, freePort } from './storm-bench.js';

export interface GroupRow {
  relays: number;
  agents: number;
  /** From starting the agents until every agent had a tunnel to every relay. */
  registrationSeconds: number;
  /** Each relay's RSS before the agents came and with all their tunnels, and the difference per tunnel. */
  rssIdleBytes: number[];
  rssWithTunnelsBytes: number[];
  perTunnelBytes: number[];
  /** Tunnels that went down while all the relays ran, registration included (expected: none; a member expired by mistake drops its tunnels). */
  tunnelsDroppedBeforeKill: number;
  /** After SIGKILL of the first relay: tunnels to the other relays that went down (expected: none). */
  survivorTunnelsDropped: number;
  /** From the SIGKILL until every device had a connected tunnel to a surviving relay (0: they all had one already). */
  reachableAfterKillSeconds: number;
  loadAverage: number;
}

/**
 * A relay group of `relayCount` relays sharing a real PostgreSQL (initdb on a free loopback port)
 * and one host key, and `count` agents (the agent's own tunnel code in niced workers), each with a
 * tunnel to every relay, as agents of a group keep. How long until all are registered, what a
 * tunnel costs each relay, and what SIGKILL of one relay does to the devices' reachability.
 */
export async function relayGroup(dir: string, count: number, relayCount: number, progress: (line: string) => void): Promise<GroupRow> {
  progress(`group: starting PostgreSQL; generating ${count} agent keys`);
  const pg = await startPostgres();
  const agents = Array.from({ length: count }, (_, i) => ({
    id: `dev-${String(i + 1).padStart(5, '0')}`,
    key: generateParsableEd25519(`agent@${i + 1}`),
  }));
  const person = await loadOrCreateKey(join(dir, 'person_ed25519'), 'bench@person');
  const database = await pg.createDatabase();
  const relays: Array<Awaited<ReturnType<typeof startRelay>>> = [];
  let fleet: Fleet | undefined;
  try {
    for (let r = 0; r < relayCount; r++) {
      const folder = join(dir, `relay-${r + 1}`);
      await mkdir(folder, { recursive: true });
      const port = await freePort();
      const config = relayConfig({
        personKey: person.publicKeyLine,
        devices: agents.map((a) => ({ id: a.id, agentKey: a.key.public.trim() })),
        extra: [
          `hostKeyFile: ${join(dir, 'group_host_ed25519')}`,
          'limits: { maxUnauthenticatedPerAddress: 300 }',
          `store: { type: postgres, host: 127.0.0.1, port: ${pg.port}, database: ${database}, user: postgres }`,
          'group: { advertise: { host: 127.0.0.1 } }',
        ],
      }).replace('port: 0', `port: ${port}`);
      // One after the other: the first makes the group's host key, the others read it.
      relays.push(await startRelay(folder, config, 300_000));
      progress(`group: relay ${r + 1} listening on ${relays[r]!.port}`);
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const rssIdle = await Promise.all(relays.map(async (r) => (await memoryOf(r.relay.child.pid!)).rss));
    const ports = relays.map((r) => r.port);
    const started = nowMs();
    fleet = Fleet.start(
      { ports, hostKey: relays[0]!.fingerprint, agents: agents.map((a) => ({ id: a.id, privateKey: a.key.private })) },
      Math.max(2, Math.min(8, Math.ceil((count * relayCount) / 1500))),
    );
    const tunnels = count * relayCount;
    const all = fleet;
    await waitFor(
      () => `${tunnels} tunnels (have ${all.connected.size})`,
      () => all.connected.size >= tunnels,
      900_000,
    );
    const registrationSeconds = (nowMs() - started) / 1000;
    progress(`group: ${count} agents x ${relayCount} relays registered in ${registrationSeconds.toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 5_000));
    const rssWith = await Promise.all(relays.map(async (r) => (await memoryOf(r.relay.child.pid!)).rss));

    const tunnelsDroppedBeforeKill = all.downs.length;
    // One relay dies: the devices are still reachable through the others' tunnels.
    all.downs.length = 0;
    const killedAt = nowMs();
    relays[0]!.relay.child.kill('SIGKILL');
    const survivors = ports.slice(1);
    const reachable = () => agents.every((a) => survivors.some((p) => all.connected.has(`${a.id}@${p}`)));
    await waitFor('every device reachable through a surviving relay', reachable, 120_000);
    const reachableAfterKillSeconds = (nowMs() - killedAt) / 1000;
    // Long enough for the group to expire the dead member and the agents to drop it.
    await new Promise((r) => setTimeout(r, 25_000));
    const survivorTunnelsDropped = all.downs.filter((d) => survivors.some((p) => d.endsWith(`@${p}`))).length;
    const row: GroupRow = {
      relays: relayCount,
      agents: count,
      registrationSeconds,
      rssIdleBytes: rssIdle,
      rssWithTunnelsBytes: rssWith,
      perTunnelBytes: rssWith.map((rss, i) => (rss - rssIdle[i]!) / count),
      tunnelsDroppedBeforeKill,
      survivorTunnelsDropped,
      reachableAfterKillSeconds,
      loadAverage: loadavg()[0]!,
    };
    progress(
      `group: SIGKILL of relay 1: every device reachable after ${reachableAfterKillSeconds.toFixed(2)} s, ` +
        `${survivorTunnelsDropped} tunnels to the surviving relays dropped`,
    );
    return row;
  } finally {
    fleet?.stop();
    await Promise.all(relays.map((r) => r.relay.stop()));
    await pg.destroy();
  }
}
