import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import { generateParsableEd25519, loadOrCreateKey } from '@lifeline/shared';
import { connectSsh2Agent } from '../support/ssh2-agents.js';
import { relayConfig, startRelay } from './bench-site.js';
import { nowMs } from './marker-clock.js';
import { cpuSecondsOf, memoryOf } from './process-memory.js';

export interface TunnelRow {
  tunnels: number;
  /** From the first connection attempt until the relay had opened its console stream through every tunnel. */
  registrationSeconds: number;
  registrationsPerSecond: number;
  /** Relay CPU (user + system) spent while the agents registered, per agent: a login and its forward. */
  relayCpuMsPerLogin: number;
  relayRssIdleBytes: number;
  relayRssWithTunnelsBytes: number;
  relayBytesPerTunnel: number;
  /** File descriptors: a socket per agent, and a console log only while it is being written (closed after 5 s idle). */
  relayOpenFilesIdle: number;
  relayOpenFilesWithTunnels: number;
}

const openFiles = async (pid: number): Promise<number> => (await readdir(`/proc/${pid}/fd`)).length;

/**
 * N idle edge agents on one relay, as ssh2 clients in this process doing what the real agent
 * does: log in as `lifeline-agent` with the device's own key, `forwardIn(deviceId, 0)`, and
 * accept the console stream the relay opens at once (answered by a Telnet server endpoint).
 * `concurrency` logins are in flight at a time, like a fleet reconnecting after a relay restart.
 */
export async function idleTunnels(dir: string, count: number, concurrency: number, progress: (line: string) => void): Promise<TunnelRow> {
  progress(`idle tunnels: generating ${count} agent keys`);
  const agents = Array.from({ length: count }, (_, i) => ({
    id: `dev-${String(i + 1).padStart(5, '0')}`,
    key: generateParsableEd25519(`agent@${i + 1}`),
  }));
  const person = await loadOrCreateKey(join(dir, 'person_ed25519'), 'bench@person');
  const { relay, port } = await startRelay(
    dir,
    relayConfig({
      personKey: person.publicKeyLine,
      devices: agents.map((a) => ({ id: a.id, agentKey: a.key.public.trim() })),
      // Every agent here comes from 127.0.0.1: lift the per-address cap on logins in progress.
      extra: [`limits: { maxUnauthenticatedPerAddress: ${concurrency}, maxUnauthenticated: ${Math.max(300, concurrency)} }`],
    }),
  );
  const clients: ssh2.Client[] = [];
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    const idle = await memoryOf(relay.child.pid!);
    const idleFiles = await openFiles(relay.child.pid!);
    progress(
      `idle tunnels: relay idle at ${(idle.rss / 1024 / 1024).toFixed(1)} MiB; connecting ${count} agents, ${concurrency} at a time`,
    );
    const start = nowMs();
    const cpuBefore = await cpuSecondsOf(relay.child.pid!);
    let next = 0;
    const worker = async () => {
      while (next < agents.length) {
        const agent = agents[next++]!;
        clients.push((await connectSsh2Agent(port, [agent.id], agent.key.private)).client);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    const seconds = (nowMs() - start) / 1000;
    const relayCpuSeconds = (await cpuSecondsOf(relay.child.pid!)) - cpuBefore;
    // Let the relay settle (garbage, log buffers) before reading its memory.
    await new Promise((r) => setTimeout(r, 2_000));
    const loaded = await memoryOf(relay.child.pid!);
    const loadedFiles = await openFiles(relay.child.pid!);
    return {
      tunnels: count,
      registrationSeconds: seconds,
      registrationsPerSecond: count / seconds,
      relayCpuMsPerLogin: (relayCpuSeconds * 1000) / count,
      relayRssIdleBytes: idle.rss,
      relayRssWithTunnelsBytes: loaded.rss,
      relayBytesPerTunnel: (loaded.rss - idle.rss) / count,
      relayOpenFilesIdle: idleFiles,
      relayOpenFilesWithTunnels: loadedFiles,
    };
  } finally {
    for (const c of clients) c.end();
    await relay.stop();
  }
}
