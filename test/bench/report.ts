import type { PersonLatencyRow, ViewerLatencyRow } from './latency-bench.js';
import type { Percentiles } from './marker-clock.js';
import type { ThroughputRow } from './throughput-bench.js';
import type { DeadLinkRow } from './dead-link-bench.js';
import type { TunnelRow } from './tunnel-bench.js';
import type { ScaleRow } from './scale-bench.js';
import type { AgentMemoryRow } from './agent-memory-bench.js';
import type { StormRow } from './storm-bench.js';
import type { GroupRow } from './group-bench.js';
import type { GroupConsoleRow } from './group-console-bench.js';

export interface MemoryReport {
  idleRssBytes: number;
  afterTrafficRssBytes?: number;
  peakRssBytes?: number;
}

/** Everything one `npm run bench` measured (also the JSON it writes). */
export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; node: string; kernel: string };
  options: Record<string, unknown>;
  viewerLatency: ViewerLatencyRow[];
  personLatency: PersonLatencyRow[];
  throughput: ThroughputRow[];
  tunnels?: TunnelRow;
  scale: ScaleRow[];
  storm: StormRow[];
  group?: GroupRow;
  groupConsole?: GroupConsoleRow;
  deadLink?: DeadLinkRow;
  agentMemory?: MemoryReport;
  /** The agentmem part: the agent started each way asked for. */
  agentMemoryRuns: AgentMemoryRow[];
  relayMemory?: MemoryReport;
  /** Why the OpenSSH baseline is missing, if it is. */
  opensshBaseline: { ran: boolean; reason?: string };
  errors: string[];
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const ms = (p: Percentiles) => `${p.p50.toFixed(2)} / ${p.p95.toFixed(2)} / ${p.max.toFixed(2)}`;
const mbps = (n: number) => (Number.isNaN(n) ? 'failed' : n.toFixed(2));
const mib = (bytes: number | undefined) => (bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);

/** The human-readable report: one table per measurement. */
export function formatReport(r: BenchResults): string {
  const parts: string[] = [
    `lifeline benchmark, ${r.startedAt} - ${r.machine.cpus} x ${r.machine.cpuModel}, ${mib(r.machine.memoryBytes)}, node ${r.machine.node}, Linux ${r.machine.kernel}`,
  ];
  const section = (title: string, body: string) => parts.push(`${title}\n${body}`);
  if (r.viewerLatency.length) {
    section(
      'Viewer latency: serial console (socat pty), relay + agent processes, ssh2 clients in one process; p50 / p95 / max in ms',
      table(
        ['viewers', 'markers', 'viewer - writer', 'device -> writer', 'device -> viewer'],
        r.viewerLatency.map((v) => [
          String(v.viewers),
          String(v.markers),
          ms(v.viewerMinusWriterMs),
          ms(v.deviceToWriterMs),
          ms(v.deviceToViewerMs),
        ]),
      ),
    );
  }
  if (r.personLatency.length) {
    section(
      'Device -> person latency, one person alone; p50 / p95 / max in ms',
      table(
        ['path', 'client', 'markers', 'apart', 'device -> person'],
        r.personLatency.map((p) => [p.path, p.client, String(p.markers), `${p.gapMs} ms`, ms(p.deviceToPersonMs)]),
      ),
    );
  }
  if (r.throughput.length) {
    section(
      `Console throughput, ${mib(r.throughput[0]!.bytes)} each way (random bytes, or lines of printable text), MB/s (10^6 bytes), median of ${r.throughput[0]!.runs.deviceToPersonMBps.length}; middle CPU: the relay's, or the chain's jump host (sshd and its session processes), user + system per MB carried`,
      table(
        ['path', 'client', 'payload', 'device -> person', 'person -> device', 'middle CPU ms/MB d->p', 'p->d'],
        r.throughput.map((t) => [
          t.path,
          t.client,
          t.payload,
          mbps(t.deviceToPersonMBps),
          mbps(t.personToDeviceMBps),
          t.middleCpuMsPerMB ? t.middleCpuMsPerMB.deviceToPerson.toFixed(1) : '-',
          t.middleCpuMsPerMB ? t.middleCpuMsPerMB.personToDevice.toFixed(1) : '-',
        ]),
      ),
    );
  }
  if (r.scale.length) {
    section(
      'Relay start with N devices and N users configured, nothing connected (restart: a console log per device on disk)',
      table(
        ['devices', 'users', 'first start', 'restart', 'idle RSS', 'settled RSS', 'peak RSS', 'open files'],
        r.scale.map((s) => [
          String(s.devices),
          String(s.users),
          `${s.firstStartSeconds.toFixed(2)} s`,
          `${s.restartSeconds.toFixed(2)} s`,
          mib(s.idleRssBytes),
          mib(s.settledRssBytes),
          mib(s.peakRssBytes),
          String(s.openFiles),
        ]),
      ),
    );
  }
  if (r.storm.length) {
    section(
      'Reconnect storm: the relay stopped and started again with N agents connected (agent tunnel code, niced workers)',
      table(
        ['agents', 'stop', 'relay start', 'all back', 'since stop', 'logins', 'failed dials', 'relay CPU', 'load'],
        r.storm.map((s) => [
          String(s.agents),
          s.restart,
          `${s.relayStartSeconds.toFixed(2)} s`,
          `${s.backSeconds.toFixed(1)} s`,
          `${s.sinceStopSeconds.toFixed(1)} s`,
          String(s.logins),
          String(s.failedDials),
          `${s.relayCpuSeconds.toFixed(1)} s`,
          s.loadAverage.toFixed(2),
        ]),
      ),
    );
  }
  if (r.group) {
    const g = r.group;
    section(
      `Relay group: ${g.relays} relays, one PostgreSQL, ${g.agents} agents each with a tunnel to every relay (agent tunnel code, niced workers)`,
      table(
        ['relay', 'RSS idle', 'RSS with tunnels', 'per tunnel'],
        g.rssIdleBytes.map((idle, i) => [
          String(i + 1),
          mib(idle),
          mib(g.rssWithTunnelsBytes[i]),
          `${(g.perTunnelBytes[i]! / 1024).toFixed(1)} KiB`,
        ]),
      ) +
        `\nregistration of all ${g.agents * g.relays} tunnels: ${g.registrationSeconds.toFixed(1)} s ` +
        `(${g.tunnelsDroppedBeforeKill} tunnels dropped while every relay ran); ` +
        `after SIGKILL of relay 1 every device was reachable through the others after ${g.reachableAfterKillSeconds.toFixed(2)} s ` +
        `(${g.survivorTunnelsDropped} tunnels to the surviving relays dropped); load ${g.loadAverage.toFixed(2)}\n`,
    );
  }
  if (r.groupConsole) {
    const c = r.groupConsole;
    section(
      `Keystroke latency, person -> device (serial console, socat pty; ${c.keystrokes} keystrokes, one at a time); p50 / p95 / max in ms`,
      table(
        ['path', 'person -> device'],
        [
          ['a relay alone', ms(c.keystrokeOneRelayMs)],
          ['the second relay of a group of two', ms(c.keystrokeGroupMemberMs)],
        ],
      ) +
        `\nSIGKILL of the writing person's relay: a person on the other relay, typing every 100 ms, reached the device after ` +
        `${c.otherRelayWritesAfterKillSeconds.toFixed(2)} s\n`,
    );
  }
  if (r.tunnels) {
    const t = r.tunnels;
    section(
      'Relay with idle agent tunnels (ssh2 agents in one process, each with its console stream open)',
      table(
        [
          'tunnels',
          'registration',
          'per second',
          'relay CPU per login',
          'relay RSS idle',
          'with tunnels',
          'per tunnel',
          'open files idle',
          'with tunnels',
        ],
        [
          [
            String(t.tunnels),
            `${t.registrationSeconds.toFixed(2)} s`,
            t.registrationsPerSecond.toFixed(0),
            `${t.relayCpuMsPerLogin.toFixed(2)} ms`,
            mib(t.relayRssIdleBytes),
            mib(t.relayRssWithTunnelsBytes),
            `${(t.relayBytesPerTunnel / 1024).toFixed(1)} KiB`,
            String(t.relayOpenFilesIdle),
            String(t.relayOpenFilesWithTunnels),
          ],
        ],
      ),
    );
  }
  if (r.deadLink) {
    section(
      'Dead link: relay and agent with default keepalives, the link between them frozen (no FIN, no RST)',
      table(
        ['agent notices after', 'relay notices after'],
        [[`${r.deadLink.agentNoticedSeconds.toFixed(1)} s`, `${r.deadLink.relayNoticedSeconds.toFixed(1)} s`]],
      ),
    );
  }
  const memoryRows = (
    [
      ['edge agent (serial console)', r.agentMemory],
      ['relay (one device)', r.relayMemory],
    ] as const
  )
    .filter(([, m]) => m !== undefined)
    .map(([name, m]) => [name, mib(m!.idleRssBytes), mib(m!.afterTrafficRssBytes), mib(m!.peakRssBytes)]);
  if (memoryRows.length) section('Process memory', table(['process', 'RSS idle', 'RSS after the runs above', 'peak RSS'], memoryRows));
  if (r.agentMemoryRuns.length)
    section(
      'Edge agent memory by start flags (serial console; RSS; throughput median MB/s)',
      table(
        ['node', 'flags', 'idle', 'settled', 'after traffic', 'peak', 'dev->person', 'person->dev', 'CPU ms/MiB'],
        r.agentMemoryRuns.map((m) => [
          m.node,
          m.flags,
          mib(m.idleRssBytes),
          mib(m.settledRssBytes),
          mib(m.afterTrafficRssBytes),
          mib(m.peakRssBytes),
          m.deviceToPersonMBps.toFixed(1),
          m.personToDeviceMBps.toFixed(1),
          m.cpuMsPerMiB.toFixed(0),
        ]),
      ),
    );
  if (!r.opensshBaseline.ran) parts.push(`OpenSSH baseline not measured: ${r.opensshBaseline.reason}`);
  if (r.errors.length) parts.push(`Errors:\n${r.errors.map((e) => `  ${e}`).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}
