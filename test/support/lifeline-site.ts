import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateKey } from '@lifeline/shared';
import { hashPassword } from '../../packages/relay/src/ssh/password-hash.js';
import { LifelineProcess, agentBin, relayBin } from './lifeline-process.js';

/** Test hashes: the same format, far cheaper to check, so many logins stay fast. */
export const cheapScrypt = { N: 2 ** 10, r: 8, p: 1 };

export const users = {
  alice: { password: 'alice-secret', devices: ['rtr-1', 'sw-offline', 'sw-2'], role: 'engineer' },
  bob: { password: 'bob-secret', devices: ['sw-offline'], role: 'engineer' },
  dave: { password: 'dave-secret', devices: ['rtr-1'], role: 'engineer' },
  sue: { password: 'sue-secret', devices: ['rtr-1'], role: 'supervisor' },
  /** Transfers files from a pty session: no escape key at all. */
  tom: { password: 'tom-secret', devices: ['rtr-1'], role: 'engineer', escapeChar: 'none' },
} as const;

export interface SiteOptions {
  /** YAML flow mapping for the agent's console, e.g. `{ type: sim }`. */
  console: string;
  /** Extra top-level YAML for relay.yaml. */
  relayExtra?: string;
  /** Extra `users:` entries (YAML flow mappings), e.g. a person reaching enrolled devices by glob. */
  extraUsers?: string[];
  /** Run the agent under another program, e.g. ['strace', '-f', ...]. */
  agentPrefix?: string[];
  /** The agent's environment on top of the tests' (e.g. its systemd unit's NODE_OPTIONS). */
  agentEnv?: NodeJS.ProcessEnv;
}

/**
 * A relay and one edge agent as separate processes on 127.0.0.1, configured the way an operator
 * would: relay.yaml with hashed passwords and the agent's enrolled key, agent.yaml pinning the
 * relay's host key. Device `rtr-1` is served by the agent; `sw-offline` has no agent running.
 */
export class LifelineSite {
  relay!: LifelineProcess;
  agent: LifelineProcess | undefined;
  port = 0;
  fingerprint = '';

  private constructor(
    readonly dir: string,
    private readonly options: SiteOptions,
  ) {}

  static async start(dir: string, options: SiteOptions & { agent?: boolean } = { console: '{ type: sim }' }): Promise<LifelineSite> {
    const site = new LifelineSite(dir, options);
    await site.startRelay();
    if (options.agent !== false) await site.startAgent();
    return site;
  }

  get relayConfigFile(): string {
    return join(this.dir, 'relay.yaml');
  }

  get agentConfigFile(): string {
    return join(this.dir, 'agent.yaml');
  }

  async startRelay(port = 0): Promise<void> {
    const agentKey = await loadOrCreateKey(join(this.dir, 'agent_ed25519'), 'agent@rtr-1');
    const otherKey = await loadOrCreateKey(join(this.dir, 'other_agent_ed25519'), 'agent@sw-offline');
    const userLines = await Promise.all(
      Object.entries(users).map(
        async ([name, u]) =>
          `  - { name: ${name}, password: "${await hashPassword(u.password, cheapScrypt)}", devices: [${u.devices.join(', ')}], role: ${u.role}${'escapeChar' in u ? `, escapeChar: ${u.escapeChar}` : ''} }`,
      ),
    );
    await writeFile(
      this.relayConfigFile,
      [
        `listen: { host: 127.0.0.1, port: ${port} }`,
        // Host key, recordings, console logs and admin socket in the test's folder.
        'stateDir: .',
        'adminSocket: relay.sock',
        'auth: { failureDelayMs: 50 }',
        'users:',
        ...userLines,
        ...(this.options.extraUsers ?? []).map((u) => `  - ${u}`),
        'devices:',
        `  - { id: rtr-1, agentKey: "${agentKey.publicKeyLine}" }`,
        `  - { id: sw-offline, agentKey: "${otherKey.publicKeyLine}" }`,
        // Served by the same agent key as rtr-1, when an agent config lists both consoles.
        `  - { id: sw-2, agentKey: "${agentKey.publicKeyLine}" }`,
        this.options.relayExtra ?? '',
      ].join('\n'),
    );
    this.relay = LifelineProcess.start(relayBin, ['run', '--config', this.relayConfigFile]);
    const listening = await this.relay.waitForLog('relay listening', (l) => l.event === 'relay.listening');
    this.port = listening.port as number;
    this.fingerprint = listening.hostKeyFingerprint as string;
  }

  /** Starts (another) agent; `relayPort` points it elsewhere (a FreezeProxy), `extra` adds YAML. */
  /** `alternatePorts`: relays on 127.0.0.1 tried after `relayPort` (agent.yaml `relay.alternates`). */
  async startAgent(options: { relayPort?: number; alternatePorts?: number[]; extra?: string; consoles?: string[] } = {}): Promise<void> {
    const alternates = (options.alternatePorts ?? []).map((port) => `{ host: 127.0.0.1, port: ${port} }`).join(', ');
    await writeFile(
      this.agentConfigFile,
      [
        `relay: { host: 127.0.0.1, port: ${options.relayPort ?? this.port}, hostKey: "${this.fingerprint}", alternates: [${alternates}] }`,
        ...(options.consoles
          ? ['consoles:', ...options.consoles.map((c) => `  - ${c}`)]
          : ['device: rtr-1', `console: ${this.options.console}`]),
        'stateDir: .',
        options.extra?.includes('reconnect:') ? '' : 'reconnect: { baseMs: 100, capMs: 1000 }',
        'consoleRetryMs: 200',
        options.extra ?? '',
      ].join('\n'),
    );
    this.agent = LifelineProcess.start(agentBin, ['run', '--config', this.agentConfigFile], {
      prefix: this.options.agentPrefix,
      ...(this.options.agentEnv ? { env: this.options.agentEnv } : {}),
    });
    await this.agent.waitForLog('agent console stream attached', (l) => l.event === 'console.stream.attached');
  }

  async stop(): Promise<void> {
    await this.agent?.stop();
    await this.relay?.stop();
  }
}
