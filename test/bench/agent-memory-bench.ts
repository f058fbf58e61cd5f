import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BenchSite, repoRoot } from './bench-site.js';
import { serialFarEnd } from './far-ends.js';
import { ssh2Person } from './person-clients.js';
import { cpuSecondsOf, memoryOf } from './process-memory.js';
import { throughput } from './throughput-bench.js';
import { makeTempDir } from '../support/temp-dir.js';

/** One way of starting the agent: which Node.js major, with which extra Node/V8 flags. */
export interface AgentVariant {
  node: number;
  /** Extra flags before the agent's script; [] for the start path as shipped. */
  flags: string[];
}

export interface AgentMemoryRow {
  node: string;
  flags: string;
  /** RSS 1 s after the console stream attached, and after `settleMs` more of idling. */
  idleRssBytes: number;
  settledRssBytes: number;
  settleMs: number;
  /** RSS after the throughput runs, and the peak (VmHWM) over the whole run. */
  afterTrafficRssBytes: number;
  peakRssBytes: number;
  /** Serial console throughput through this agent (median MB/s), to see that a flag does not slow the console. */
  deviceToPersonMBps: number;
  personToDeviceMBps: number;
  /** The agent's CPU (user + system) per MiB it carried in the throughput runs, both ways: what a flag costs in work. */
  cpuMsPerMiB: number;
  error?: string;
}

type FindNode = (major: number) => { path?: string; version?: string; problem?: string };

/**
 * The edge agent's memory, started each way in `variants`, on a serial console (socat pty) with a
 * relay: idle RSS, RSS after a settle, then `bytes` each way `repeat` times and the RSS after.
 */
export async function agentMemory(
  variants: AgentVariant[],
  options: { settleMs: number; bytes: number; repeat: number },
  progress: (line: string) => void,
): Promise<AgentMemoryRow[]> {
  const { findNode } = (await import(pathToFileURL(join(repoRoot, 'scripts/node-runtime.mjs')).href)) as { findNode: FindNode };
  const rows: AgentMemoryRow[] = [];
  for (const variant of variants) {
    const node = findNode(variant.node);
    if (!node.path) throw new Error(node.problem ?? `no Node.js ${variant.node}`);
    const flags = variant.flags.join(' ') || '(none)';
    progress(`agent memory: Node.js ${variant.node}, flags ${flags}`);
    const dir = await makeTempDir('bench-agent-memory');
    const device = await serialFarEnd(dir.path);
    let site: BenchSite | undefined;
    try {
      site = await BenchSite.start(dir.path, device, { node: node.path, flags: variant.flags });
      const pid = site.agent.child.pid!;
      await sleep(1_000);
      const idle = await memoryOf(pid);
      await sleep(options.settleMs);
      const settled = await memoryOf(pid);
      const running = site;
      const open = (onData: (chunk: Buffer) => void) =>
        ssh2Person({ port: running.port, user: 'alice', privateKey: running.personKey.privateKey, onData });
      const cpuBefore = await cpuSecondsOf(pid);
      const speed = await throughput({ path: 'serial (pty)', client: 'ssh2' }, device, open, options.bytes, options.repeat);
      const cpu = (await cpuSecondsOf(pid)) - cpuBefore;
      const after = await memoryOf(pid);
      rows.push({
        node: node.version ?? `${variant.node}`,
        flags,
        idleRssBytes: idle.rss,
        settledRssBytes: settled.rss,
        settleMs: options.settleMs,
        afterTrafficRssBytes: after.rss,
        peakRssBytes: after.hwm,
        deviceToPersonMBps: speed.deviceToPersonMBps,
        personToDeviceMBps: speed.personToDeviceMBps,
        cpuMsPerMiB: (cpu * 1000) / ((2 * options.bytes * options.repeat) / 1024 / 1024),
        ...(speed.error ? { error: speed.error } : {}),
      });
    } finally {
      await site?.stop();
      await device.close();
      await dir.remove();
    }
  }
  return rows;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
