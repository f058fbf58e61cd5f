import { writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateKey } from '@lifeline/shared';
import { makeTempDir } from '../support/temp-dir.js';
import { BenchSite, profilingArgs, repoRoot } from './bench-site.js';
import { serialFarEnd, terminalServerFarEnd, type FarEnd } from './far-ends.js';
import { personLatency, viewerLatency, type LatencyOptions } from './latency-bench.js';
import { findSshd, OpenSshPath } from './openssh-path.js';
import { openSshPerson, ssh2Person } from './person-clients.js';
import { cpuSecondsOf, memoryOf, treeCpuSecondsOf } from './process-memory.js';
import { deadLink } from './dead-link-bench.js';
import { formatReport, type BenchResults } from './report.js';
import { PAYLOADS, throughput, type Payload } from './throughput-bench.js';
import { idleTunnels } from './tunnel-bench.js';
import { scaleStart } from './scale-bench.js';
import { agentMemory } from './agent-memory-bench.js';
import { storm } from './storm-bench.js';
import { relayGroup } from './group-bench.js';
import { groupConsole } from './group-console-bench.js';

const parts = ['latency', 'throughput', 'openssh', 'tunnels', 'deadlink', 'scale', 'agentmem', 'storm', 'group', 'groupconsole'] as const;

const usage = `npm run bench -- [options]
  --only LIST         some of: ${parts.join(',')} (default: all; agent and relay memory come with latency/throughput)
  --viewers LIST      viewer counts for the latency run (default 1,20,100)
  --markers N         markers per latency measurement (default 100), --gap-ms MS apart (default 20);
                      one person alone also gets 3 times as many, 3 ms apart
  --mib N             MiB each way per throughput run (default 8), --repeat N runs (default 3, median shown)
  --payload LIST      throughput payloads: random (binary), text (printable lines) (default random,text)
  --fleet N           latency, throughput: N more devices configured on the relay, whose agents never
                      connect, so its heap is a fleet's (default 0)
  --tunnels N         idle agent tunnels (default 200), --concurrency N logins in flight (default 50)
  --devices LIST      device (and user) counts for the start-up run (default 1000,5000,10000)
  --agents LIST       agent counts for the reconnect storm run (default 1000)
  --group-agents N    agents for the relay group run, each with a tunnel to every relay (default 3000),
                      --relays N relays in the group (default 3)
                      (groupconsole: keystroke latency through a group member and a lone relay, --markers
                      keystrokes --gap-ms apart, and a writer's relay SIGKILLed)
  --agent-node LIST   Node.js majors the agentmem part starts the agent on (default 20,24)
  --agent-flags LIST  "|"-separated sets of extra Node/V8 flags (and NAME=value environment entries) for agentmem, "none" for the start path as
                      shipped (default none)
  --settle-s N        agentmem, scale: seconds of idling before the settled RSS (default 30)
  --cpu-prof DIR      start every relay and agent with --cpu-prof into DIR (open the .cpuprofile files in Chrome's DevTools)
  --json FILE         where the JSON goes (default test/bench/dist/bench-results.json; "-" for stdout, then no table)
See docs/benchmarks.md.`;

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', default: parts.join(',') },
      viewers: { type: 'string', default: '1,20,100' },
      markers: { type: 'string', default: '100' },
      'gap-ms': { type: 'string', default: '20' },
      mib: { type: 'string', default: '8' },
      repeat: { type: 'string', default: '3' },
      payload: { type: 'string', default: PAYLOADS.join(',') },
      fleet: { type: 'string', default: '0' },
      tunnels: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '50' },
      devices: { type: 'string', default: '1000,5000,10000' },
      agents: { type: 'string', default: '1000' },
      'group-agents': { type: 'string', default: '3000' },
      relays: { type: 'string', default: '3' },
      'agent-node': { type: 'string', default: '20,24' },
      'agent-flags': { type: 'string', default: 'none' },
      'settle-s': { type: 'string', default: '30' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string', default: join(repoRoot, 'test/bench/dist/bench-results.json') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const only = new Set(values.only.split(','));
  if (values['cpu-prof']) profilingArgs.push('--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`);
  const latency: LatencyOptions = { markers: Number(values.markers), gapMs: Number(values['gap-ms']) };
  // Markers close together, as output comes from a busy console: shows delays from Nagle's algorithm.
  const burst: LatencyOptions = { markers: latency.markers * 3, gapMs: 3 };
  const bytes = Math.round(Number(values.mib) * 1024 * 1024);
  const repeat = Number(values.repeat);
  const fleet = Number(values.fleet);
  const payloads = values.payload.split(',').filter((p): p is Payload => (PAYLOADS as readonly string[]).includes(p));
  const viewerCounts = values.viewers
    .split(',')
    .map(Number)
    .sort((a, b) => a - b);
  const cpu = cpus();
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', memoryBytes: totalmem(), node: process.version, kernel: release() },
    options: {
      only: [...only],
      viewerCounts,
      ...latency,
      bytes,
      repeat,
      fleet,
      tunnels: Number(values.tunnels),
      concurrency: Number(values.concurrency),
      devices: values.devices,
      agents: values.agents,
    },
    viewerLatency: [],
    personLatency: [],
    throughput: [],
    opensshBaseline: { ran: false, reason: 'not asked for (--only)' },
    scale: [],
    storm: [],
    agentMemoryRuns: [],
    errors: [],
  };
  const attempt = async (what: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      progress(`${what} failed: ${(err as Error).message}`);
      results.errors.push(`${what}: ${(err as Error).message}`);
    }
  };

  if (only.has('latency') || only.has('throughput')) {
    await attempt('serial console', () =>
      withSite('bench-serial', fleet, serialFarEnd, async (site, device) => {
        await new Promise((r) => setTimeout(r, 1_000));
        const agentIdle = await memoryOf(site.agent.child.pid!);
        const relayIdle = await memoryOf(site.relay.child.pid!);
        const viaSsh2 = (onData: (chunk: Buffer) => void) =>
          ssh2Person({ port: site.port, user: 'alice', privateKey: site.personKey.privateKey, onData });
        const viaOpenSsh = async (onData: (chunk: Buffer) => void) =>
          openSshPerson({ port: site.port, user: 'alice', keyFile: site.personKeyFile, onData });
        const path = 'lifeline, serial (pty)';
        if (only.has('latency')) {
          results.viewerLatency = await viewerLatency(site, device, viewerCounts, latency, progress);
          progress('device -> person latency through lifeline');
          for (const gaps of [latency, burst]) {
            results.personLatency.push(await personLatency({ path, client: 'ssh2' }, device, viaSsh2, gaps));
            results.personLatency.push(await personLatency({ path, client: 'OpenSSH' }, device, viaOpenSsh, gaps));
          }
        }
        if (only.has('throughput')) {
          progress('throughput through lifeline, serial console');
          const relayCpu = () => cpuSecondsOf(site.relay.child.pid!);
          for (const payload of payloads) {
            results.throughput.push(await throughput({ path, client: 'ssh2' }, device, viaSsh2, bytes, repeat, relayCpu, payload));
            results.throughput.push(await throughput({ path, client: 'OpenSSH' }, device, viaOpenSsh, bytes, repeat, relayCpu, payload));
          }
        }
        const agentAfter = await memoryOf(site.agent.child.pid!);
        const relayAfter = await memoryOf(site.relay.child.pid!);
        results.agentMemory = { idleRssBytes: agentIdle.rss, afterTrafficRssBytes: agentAfter.rss, peakRssBytes: agentAfter.hwm };
        results.relayMemory = { idleRssBytes: relayIdle.rss, afterTrafficRssBytes: relayAfter.rss, peakRssBytes: relayAfter.hwm };
      }),
    );
  }
  if (only.has('throughput')) {
    await attempt('terminal server console', () =>
      withSite(
        'bench-telnet',
        fleet,
        () => terminalServerFarEnd(),
        async (site, device) => {
          progress('throughput through lifeline, terminal server console');
          const path = 'lifeline, terminal server (telnet)';
          const viaSsh2 = (onData: (chunk: Buffer) => void) =>
            ssh2Person({ port: site.port, user: 'alice', privateKey: site.personKey.privateKey, onData });
          const viaOpenSsh = async (onData: (chunk: Buffer) => void) =>
            openSshPerson({ port: site.port, user: 'alice', keyFile: site.personKeyFile, onData });
          if (only.has('latency'))
            for (const gaps of [latency, burst])
              results.personLatency.push(await personLatency({ path, client: 'ssh2' }, device, viaSsh2, gaps));
          const relayCpu = () => cpuSecondsOf(site.relay.child.pid!);
          for (const payload of payloads) {
            results.throughput.push(await throughput({ path, client: 'ssh2' }, device, viaSsh2, bytes, repeat, relayCpu, payload));
            results.throughput.push(await throughput({ path, client: 'OpenSSH' }, device, viaOpenSsh, bytes, repeat, relayCpu, payload));
          }
        },
      ),
    );
  }
  if (only.has('openssh')) await attempt('OpenSSH baseline', () => opensshBaseline(results, latency, burst, bytes, repeat, payloads));
  if (only.has('tunnels')) {
    await attempt('idle tunnels', async () => {
      const dir = await makeTempDir('bench-tunnels');
      try {
        results.tunnels = await idleTunnels(dir.path, Number(values.tunnels), Number(values.concurrency), progress);
      } finally {
        await dir.remove();
      }
    });
  }

  if (only.has('deadlink')) {
    await attempt('dead link', async () => {
      const dir = await makeTempDir('bench-deadlink');
      try {
        results.deadLink = await deadLink(dir.path, progress);
      } finally {
        await dir.remove();
      }
    });
  }

  if (only.has('scale')) {
    for (const count of values.devices.split(',').map(Number)) {
      await attempt(`scale with ${count} devices`, async () => {
        const dir = await makeTempDir('bench-scale');
        try {
          results.scale.push(await scaleStart(dir.path, count, Number(values['settle-s']) * 1000, progress));
        } finally {
          await dir.remove();
        }
      });
    }
  }

  if (only.has('agentmem')) {
    const variants = values['agent-node'].split(',').flatMap((node) =>
      values['agent-flags'].split('|').map((set) => ({
        node: Number(node),
        flags: set.trim() === 'none' ? [] : set.trim().split(/\s+/),
      })),
    );
    await attempt('agent memory', async () => {
      results.agentMemoryRuns = await agentMemory(variants, { settleMs: Number(values['settle-s']) * 1000, bytes, repeat }, progress);
    });
  }
  if (only.has('storm')) {
    for (const count of values.agents.split(',').map(Number)) {
      await attempt(`storm with ${count} agents`, async () => {
        const dir = await makeTempDir('bench-storm');
        try {
          results.storm.push(...(await storm(dir.path, count, progress)));
        } finally {
          await dir.remove();
        }
      });
    }
  }

  if (only.has('group')) {
    const count = Number(values['group-agents']);
    const relays = Number(values.relays);
    await attempt(`relay group of ${relays} with ${count} agents`, async () => {
      const dir = await makeTempDir('bench-group');
      try {
        results.group = await relayGroup(dir.path, count, relays, progress);
      } finally {
        await dir.remove();
      }
    });
  }

  if (only.has('groupconsole')) {
    await attempt('relay group console', async () => {
      const dir = await makeTempDir('bench-group-console');
      try {
        results.groupConsole = await groupConsole(dir.path, latency.markers, latency.gapMs, progress);
      } finally {
        await dir.remove();
      }
    });
  }

  const json = `${JSON.stringify(results, null, 2)}\n`;
  if (values.json === '-') {
    process.stdout.write(json);
  } else {
    await writeFile(values.json, json);
    process.stdout.write(formatReport(results));
    process.stdout.write(`\nJSON: ${values.json}\n`);
  }
  return results.errors.length ? 1 : 0;
}

/**
 * Waits until a process has used under 2 % of a core for two seconds running (at most two
 * minutes): a relay with a fleet starts each device's console log in the background after it
 * listens, and a measurement taken meanwhile would count that work as the traffic's. Returns the
 * milliseconds waited.
 */
async function untilQuiet(pid: number): Promise<number> {
  const started = performance.now();
  let quiet = 0;
  let last = await cpuSecondsOf(pid);
  while (quiet < 2 && performance.now() - started < 120_000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await cpuSecondsOf(pid);
    quiet = now - last < 0.02 ? quiet + 1 : 0;
    last = now;
  }
  return performance.now() - started;
}

/** A relay and agent serving a far end made in a fresh temp dir; everything is stopped afterwards. */
async function withSite(
  name: string,
  fleet: number,
  makeFarEnd: (dir: string) => Promise<FarEnd>,
  run: (site: BenchSite, device: FarEnd) => Promise<void>,
): Promise<void> {
  const dir = await makeTempDir(name);
  let device: FarEnd | undefined;
  let site: BenchSite | undefined;
  try {
    device = await makeFarEnd(dir.path);
    progress(`${name}: starting relay${fleet ? ` (${fleet} more devices configured)` : ''} and agent`);
    site = await BenchSite.start(dir.path, device, {}, fleet);
    if (fleet > 0) {
      const waited = await untilQuiet(site.relay.child.pid!);
      progress(`${name}: relay quiet ${(waited / 1000).toFixed(1)} s after listening (its fleet's console logs started)`);
    }
    await run(site, device);
  } finally {
    await site?.stop();
    await device?.close();
    await dir.remove();
  }
}

async function opensshBaseline(
  results: BenchResults,
  latency: LatencyOptions,
  burst: LatencyOptions,
  bytes: number,
  repeat: number,
  payloads: readonly Payload[],
): Promise<void> {
  const sshd = findSshd();
  if (Array.isArray(sshd)) {
    results.opensshBaseline = { ran: false, reason: `missing ${sshd.join(', ')}` };
    return;
  }
  const dir = await makeTempDir('bench-openssh');
  const device = await serialFarEnd(dir.path);
  let path: OpenSshPath | undefined;
  try {
    progress('OpenSSH baseline: sshd, ssh -R, socat on the pty');
    const keyFile = join(dir.path, 'person_ed25519');
    const key = await loadOrCreateKey(keyFile, 'bench@person');
    path = await OpenSshPath.start(dir.path, { ttyPath: device.ttyPath, keyFile, publicKeyLine: key.publicKeyLine });
    const { sshdPort, user } = path;
    const command = path.consoleCommand;
    const viaOpenSsh = async (onData: (chunk: Buffer) => void) => openSshPerson({ port: sshdPort, user, keyFile, command, onData });
    const label = { path: 'OpenSSH: sshd + ssh -R + socat, serial (pty)', client: 'OpenSSH' };
    for (const gaps of [latency, burst]) results.personLatency.push(await personLatency(label, device, viaOpenSsh, gaps));
    const sshdPid = path.sshdPid;
    for (const payload of payloads)
      results.throughput.push(await throughput(label, device, viaOpenSsh, bytes, repeat, () => treeCpuSecondsOf(sshdPid), payload));
    results.opensshBaseline = { ran: true };
  } finally {
    await path?.stop();
    await device.close();
    await dir.remove();
  }
}
