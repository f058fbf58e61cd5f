import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { generateParsableEd25519, loadOrCreateKey } from '@lifeline/shared';
import { waitFor } from '../support/wait.js';
import { relayConfig, startRelay } from './bench-site.js';
import { nowMs } from './marker-clock.js';
import { cpuSecondsOf } from './process-memory.js';
import type { StormWorkerMessage, StormWorkerStart } from './storm-agents.js';

export interface StormRow {
  agents: number;
  /** How the relay went down: SIGKILL (a crash) or SIGTERM (graceful: RETURN notices). */
  restart: 'SIGKILL' | 'SIGTERM';
  /** From spawning the relay again until it listened. */
  relayStartSeconds: number;
  /** From the relay listening again until every agent's tunnel was connected again. */
  backSeconds: number;
  /** From the stop signal until every agent was back (graceful: includes the announced window). */
  sinceStopSeconds: number;
  /** SSH logins the agents made (ready), dials that failed (refused, shed, timed out), during the storm. */
  logins: number;
  failedDials: number;
  /** The relay's CPU seconds (user + system) from its spawn until every agent was back. */
  relayCpuSeconds: number;
  /** 1-minute load average when every agent was back. */
  loadAverage: number;
}

const workerScript = fileURLToPath(new URL('./storm-agents.js', import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The fleet's worker processes (niced, so their CPU stays out of the relay's way) and what they report. */
export class Fleet {
  /** Tunnels connected now, as `device@port`. */
  readonly connected = new Set<string>();
  /** Tunnels that went down since the fleet started (or since cleared), as `device@port`. */
  readonly downs: string[] = [];
  private readonly stats = new Map<ChildProcess, { dials: number; logins: number; failed: number }>();
  private constructor(private readonly workers: ChildProcess[]) {
    for (const w of workers) {
      w.on('message', (m: StormWorkerMessage) => {
        if (m.kind === 'connected') this.connected.add(`${m.id}@${m.port}`);
        else if (m.kind === 'down') {
          this.connected.delete(`${m.id}@${m.port}`);
          this.downs.push(`${m.id}@${m.port}`);
        } else this.stats.set(w, m);
      });
    }
  }

  static start(start: StormWorkerStart, workerCount: number): Fleet {
    const workers = Array.from({ length: workerCount }, (_, w) => {
      const child = spawn('nice', ['-n', '10', process.execPath, workerScript], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        serialization: 'advanced',
      });
      child.send({ ...start, agents: start.agents.filter((_, i) => i % workerCount === w) } satisfies StormWorkerStart);
      return child;
    });
    return new Fleet(workers);
  }

  async totals(): Promise<{ dials: number; logins: number; failed: number }> {
    this.stats.clear();
    for (const w of this.workers) w.send({ kind: 'stats' });
    await waitFor('worker stats', () => this.stats.size === this.workers.length, 30_000);
    const sum = { dials: 0, logins: 0, failed: 0 };
    for (const s of this.stats.values()) {
      sum.dials += s.dials;
      sum.logins += s.logins;
      sum.failed += s.failed;
    }
    return sum;
  }

  stop(): void {
    for (const w of this.workers) w.kill('SIGKILL');
  }
}

/**
 * N edge agents (the agent's own tunnel code: dialer, backoff, health checks) connected to one
 * relay; the relay is killed (SIGKILL) and started again, then stopped gracefully (SIGTERM, RETURN
 * notices) and started again. For each: how long until every agent is back, how many logins that
 * took, and what it cost the relay.
 */
export async function storm(dir: string, count: number, progress: (line: string) => void): Promise<StormRow[]> {
  progress(`storm: generating ${count} agent keys`);
  const agents = Array.from({ length: count }, (_, i) => ({
    id: `dev-${String(i + 1).padStart(5, '0')}`,
    key: generateParsableEd25519(`agent@${i + 1}`),
  }));
  const person = await loadOrCreateKey(join(dir, 'person_ed25519'), 'bench@person');
  const port = await freePort();
  const config = relayConfig({
    personKey: person.publicKeyLine,
    devices: agents.map((a) => ({ id: a.id, agentKey: a.key.public.trim() })),
    // A fleet comes from many addresses; here every agent is 127.0.0.1, so lift the per-address cap.
    extra: ['limits: { maxUnauthenticatedPerAddress: 300 }'],
  }).replace('port: 0', `port: ${port}`);
  const begin = async () => {
    const spawned = nowMs();
    const started = await startRelay(dir, config, 300_000);
    return { ...started, spawned, listeningAt: nowMs() };
  };
  let relay = await begin();
  const fleet = Fleet.start(
    { ports: [port], hostKey: relay.fingerprint, agents: agents.map((a) => ({ id: a.id, privateKey: a.key.private })) },
    Math.max(2, Math.min(8, Math.ceil(count / 1500))),
  );
  const rows: StormRow[] = [];
  try {
    const all = (what: string) =>
      waitFor(`${what}: ${count} agents connected (have ${fleet.connected.size})`, () => fleet.connected.size >= count, 600_000);
    progress(`storm: ${count} agents connecting for the first time`);
    await all('first connect');
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      await new Promise((r) => setTimeout(r, 3_000));
      const before = await fleet.totals();
      fleet.connected.clear();
      progress(`storm: ${signal} to the relay with ${count} agents connected`);
      const stoppedAt = nowMs();
      // A graceful stop tells every agent when to come back first: give it time to.
      process.kill(-relay.relay.child.pid!, signal);
      await relay.relay.waitForExit(120_000);
      relay = await begin();
      const startSeconds = (relay.listeningAt - relay.spawned) / 1000;
      progress(`storm: relay listening again after ${startSeconds.toFixed(2)} s; waiting for every agent`);
      await all(`after ${signal}`);
      const backAt = nowMs();
      const cpu = await cpuSecondsOf(relay.relay.child.pid!);
      const after = await fleet.totals();
      const row: StormRow = {
        agents: count,
        restart: signal,
        relayStartSeconds: startSeconds,
        backSeconds: (backAt - relay.listeningAt) / 1000,
        sinceStopSeconds: (backAt - stoppedAt) / 1000,
        logins: after.logins - before.logins,
        failedDials: after.failed - before.failed,
        relayCpuSeconds: cpu,
        loadAverage: loadavg()[0]!,
      };
      progress(
        `storm: ${signal}: all back ${row.backSeconds.toFixed(1)} s after listening (${row.sinceStopSeconds.toFixed(1)} s after the stop), ` +
          `${row.logins} logins, ${row.failedDials} failed dials, relay CPU ${row.relayCpuSeconds.toFixed(1)} s, load ${row.loadAverage.toFixed(2)}`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    fleet.stop();
    await relay.relay.stop();
  }
}
