import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateParsableEd25519, loadOrCreateKey, type SshKeyPair } from '@lifeline/shared';
import { LifelineProcess, type LogLine } from '../support/lifeline-process.js';
import { waitFor } from '../support/wait.js';
import type { FarEnd } from './far-ends.js';

/** The repository's root, found from here (this file runs from test/bench/dist/test/bench/). */
export const repoRoot: string = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'lifeline') return dir;
  }
  throw new Error('cannot find the lifeline repository root');
})();
export const relayBin = join(repoRoot, 'packages/relay/bin/lifeline-relay.js');
export const agentBin = join(repoRoot, 'packages/edge-agent/bin/lifeline-agent.js');

/**
 * The Node.js flags the relay's systemd unit gives it (between the node binary and the script on
 * its ExecStart line), so the benchmark measures the relay as it runs in production.
 */
export const relayNodeArgs: string[] = (() => {
  const unit = readFileSync(join(repoRoot, 'deploy/systemd/lifeline-relay.service'), 'utf8');
  const words = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(/\s+/) ?? [];
  return words
    .slice(
      1,
      words.findIndex((w) => w.endsWith('/lifeline-relay.js')),
    )
    .filter((w) => w.startsWith('--'));
})();

/**
 * Extra Node.js flags for every relay and agent the benchmark starts (`--cpu-prof DIR` puts
 * `--cpu-prof --cpu-prof-dir=DIR` here, so the profiles are of the processes being measured).
 */
export const profilingArgs: string[] = [];

/**
 * Relay config lines for the benchmark: people log in with a key (no scrypt per login). `fleet`
 * more devices are configured whose agents never connect, so the relay's heap is the size of a
 * fleet's (its garbage collections then mark that much each time).
 */
export function relayConfig(options: {
  personKey: string;
  devices: Array<{ id: string; agentKey: string }>;
  fleet?: number;
  extra?: string[];
}): string {
  const ids = options.devices.map((d) => d.id);
  const fleet = Array.from({ length: options.fleet ?? 0 }, (_, i) => ({
    id: `fleet-${i + 1}`,
    agentKey: generateParsableEd25519(`agent@fleet-${i + 1}`).public.trim(),
  }));
  return [
    'listen: { host: 127.0.0.1, port: 0 }',
    'stateDir: .',
    'adminSocket: relay.sock',
    'users:',
    ...['alice', 'viewer'].map(
      (name) => `  - { name: ${name}, authorizedKeys: ["${options.personKey}"], devices: [${ids[0]}], role: engineer }`,
    ),
    'devices:',
    ...[...options.devices, ...fleet].map((d) => `  - { id: ${d.id}, agentKey: "${d.agentKey}" }`),
    ...(options.extra ?? []),
  ].join('\n');
}

/** Starts a relay process and waits until it listens; returns its port and host key fingerprint. */
export async function startRelay(
  dir: string,
  config: string,
  timeoutMs?: number,
): Promise<{ relay: LifelineProcess; port: number; fingerprint: string }> {
  const file = join(dir, 'relay.yaml');
  await writeFile(file, config);
  const relay = LifelineProcess.start(relayBin, ['run', '--config', file], { nodeArgs: [...relayNodeArgs, ...profilingArgs] });
  const listening = await relay.waitForLog('relay listening', (l) => l.event === 'relay.listening', timeoutMs);
  return { relay, port: listening.port as number, fingerprint: listening.hostKeyFingerprint as string };
}

/**
 * A relay and an edge agent as processes on 127.0.0.1 serving device `rtr-1` through `farEnd`,
 * with users `alice` and `viewer` who log in with `personKey` (its file is `personKeyFile`).
 */
export class BenchSite {
  private constructor(
    readonly relay: LifelineProcess,
    readonly agent: LifelineProcess,
    readonly port: number,
    readonly personKey: SshKeyPair,
    readonly personKeyFile: string,
  ) {}

  /**
   * `agent` picks the agent's Node.js binary and extra flags (the benchmark's agent-memory part);
   * by default the current Node.js, no flags. `fleet`: idle devices configured beside `rtr-1`.
   */
  static async start(dir: string, farEnd: FarEnd, agent: { node?: string; flags?: string[] } = {}, fleet = 0): Promise<BenchSite> {
    const agentKey = await loadOrCreateKey(join(dir, 'agent_ed25519'), 'agent@rtr-1');
    const personKeyFile = join(dir, 'person_ed25519');
    const personKey = await loadOrCreateKey(personKeyFile, 'bench@person');
    const { relay, port, fingerprint } = await startRelay(
      dir,
      relayConfig({ personKey: personKey.publicKeyLine, devices: [{ id: 'rtr-1', agentKey: agentKey.publicKeyLine }], fleet }),
      // A fleet's start takes seconds more (docs/benchmarks.md, the start-up run).
      fleet > 0 ? 60_000 : undefined,
    );
    const agentFile = join(dir, 'agent.yaml');
    await writeFile(
      agentFile,
      [
        `relay: { host: 127.0.0.1, port: ${port}, hostKey: "${fingerprint}" }`,
        'device: rtr-1',
        'stateDir: .',
        `console: ${farEnd.agentConsole}`,
        'reconnect: { baseMs: 100, capMs: 1000 }',
        'consoleRetryMs: 200',
      ].join('\n'),
    );
    // NAME=value entries are the agent's environment (MALLOC_ARENA_MAX=2), the rest Node.js flags.
    const isEnv = (flag: string) => /^[A-Z_][A-Z0-9_]*=/.test(flag);
    const env = (agent.flags ?? []).filter(isEnv);
    const flags = [...(agent.flags ?? []).filter((f) => !isEnv(f)), ...profilingArgs];
    // Flags go between node and the script: a shell in front passes them (its $0 is the node binary).
    const agentProcess = LifelineProcess.start(agentBin, ['run', '--config', agentFile], {
      ...(agent.node ? { node: agent.node } : {}),
      ...(flags.length || env.length ? { prefix: ['/bin/sh', '-c', `${env.join(' ')} exec "$0" ${flags.join(' ')} "$@"`] } : {}),
    });
    try {
      await agentProcess.waitForLog('agent console stream attached', (l) => l.event === 'console.stream.attached');
    } catch (err) {
      await agentProcess.stop();
      await relay.stop();
      throw err;
    }
    return new BenchSite(relay, agentProcess, port, personKey, personKeyFile);
  }

  sessionStarts(): LogLine[] {
    return this.relay.logs.filter((l) => l.event === 'session.start');
  }

  /** Waits until the relay has attached `count` sessions in all (since it started). */
  async attached(count: number): Promise<void> {
    await waitFor(
      () => `${count} sessions attached (have ${this.sessionStarts().length})`,
      () => this.sessionStarts().length >= count,
      30_000,
    );
  }

  async stop(): Promise<void> {
    await this.agent.stop();
    await this.relay.stop();
  }
}
