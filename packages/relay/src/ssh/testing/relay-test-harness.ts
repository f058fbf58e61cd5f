import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, loadOrCreateKey, parsePublicKeyLine, relayConfigSchema, type Clock, type RelayConfig } from '@lifeline/shared';
import ssh2 from 'ssh2';
import { hashPassword } from '../password-hash.js';
import { createRelaySshServer, type RelaySshServer, type RelaySshServerOptions } from '../relay-ssh-server.js';
import { FakeBroker, FakeRegistrar } from './fake-console.js';

/** A key pair written to disk (0600) for OpenSSH's `-i` as well as for ssh2 clients. */
export interface TestKey {
  privateKey: string;
  publicKeyLine: string;
  file: string;
}

export interface TestRelayOptions {
  auth?: Partial<RelayConfig['auth']>;
  escapeChar?: string;
  clock?: Clock;
  server?: Partial<Pick<RelaySshServerOptions, 'keepaliveIntervalMs' | 'keepaliveCountMax' | 'closeGraceMs'>>;
}

/**
 * A relay SSH server on 127.0.0.1 port 0 with fake broker and registrar, and this cast:
 * - alice: password `alice-pw` and key `keys.alice`; devices dev1 (default), dev2
 * - bob: key `keys.bob` only; device dev3
 * - agent key `keys.agentA` serves dev1 and dev2, `keys.agentB` serves dev3
 * `keys.stranger` is authorised nowhere.
 */
export interface TestRelay {
  host: string;
  port: number;
  dir: string;
  hostKeyFingerprint: string;
  hostKeyBlob: Buffer;
  /** OpenSSH known_hosts file pinning the relay's host key. */
  knownHostsFile: string;
  keys: Record<'alice' | 'bob' | 'agentA' | 'agentB' | 'stranger', TestKey>;
  config: RelayConfig;
  broker: FakeBroker;
  registrar: FakeRegistrar;
  server: RelaySshServer;
  /** Every log line the relay wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Resolves once a log line with this event (and matching fields) appears. */
  waitForLog(event: string, fields?: Record<string, unknown>, ms?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export const ALICE_PASSWORD = 'alice-pw';

async function makeKey(dir: string, name: string): Promise<TestKey> {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: name });
  const file = join(dir, `${name}_ed25519`);
  await writeFile(file, pair.private, { mode: 0o600 });
  return { privateKey: pair.private, publicKeyLine: pair.public.trim(), file };
}

export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeline-ssh-test-'));
  const hostKey = await loadOrCreateKey(join(dir, 'host_ed25519'), 'test-relay');
  const names = ['alice', 'bob', 'agentA', 'agentB', 'stranger'] as const;
  const made = await Promise.all(names.map((n) => makeKey(dir, n)));
  const keys = Object.fromEntries(names.map((n, i) => [n, made[i]!])) as TestRelay['keys'];

  const config = relayConfigSchema.parse({
    listen: { host: '127.0.0.1', port: 0 },
    hostKeyFile: join(dir, 'host_ed25519'),
    auth: { failureDelayMs: 0, maxFailuresPerWindow: 50, windowMs: 60_000, ...options.auth },
    ...(options.escapeChar ? { escapeChar: options.escapeChar } : {}),
    users: [
      { name: 'alice', password: await hashPassword(ALICE_PASSWORD), authorizedKeys: [keys.alice.publicKeyLine], devices: ['dev1', 'dev2'] },
      { name: 'bob', authorizedKeys: [keys.bob.publicKeyLine], devices: ['dev3'] },
    ],
    devices: [
      { id: 'dev1', agentKey: keys.agentA.publicKeyLine },
      { id: 'dev2', agentKey: keys.agentA.publicKeyLine },
      { id: 'dev3', agentKey: keys.agentB.publicKeyLine },
    ],
  });

  const logs: Array<Record<string, unknown>> = [];
  const logWaiters: Array<() => void> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      for (const wake of logWaiters.splice(0)) wake();
      cb();
    },
  });
  const logger = createLogger({ svc: 'relay', version: 'test', level: 'debug', destination });
  const broker = new FakeBroker();
  const registrar = new FakeRegistrar();
  const server = createRelaySshServer({ config, hostKey: hostKey.privateKey, broker, tunnels: registrar, logger, clock: options.clock, ...options.server });
  const { host, port } = await server.listen();
  const hostKeyBlob = parsePublicKeyLine(hostKey.publicKeyLine).getPublicSSH();
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, `[${host}]:${port} ${hostKey.publicKeyLine}\n`);

  const matches = (line: Record<string, unknown>, event: string, fields: Record<string, unknown>) =>
    line.event === event && Object.entries(fields).every(([k, v]) => line[k] === v);

  return {
    host,
    port,
    dir,
    hostKeyFingerprint: hostKey.fingerprint,
    hostKeyBlob,
    knownHostsFile,
    keys,
    config,
    broker,
    registrar,
    server,
    logs,
    waitForLog(event, fields = {}, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log event ${event} ${JSON.stringify(fields)} within ${ms} ms`)), ms);
        const check = () => {
          const hit = logs.find((l) => matches(l, event, fields));
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
          } else {
            logWaiters.push(check);
          }
        };
        check();
      });
    },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An ssh2 client logged in to the test relay (host key pinned). Rejects with the client's error,
 * e.g. `All configured authentication methods failed`.
 */
export function connectClient(relay: TestRelay, config: ssh2.ConnectConfig): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('ready', () => resolve(client));
    client.once('error', (err) => {
      client.end();
      reject(err);
    });
    client.once('close', () => reject(new Error('connection closed before login')));
    client.connect({
      host: relay.host,
      port: relay.port,
      hostVerifier: (key: Buffer) => key.equals(relay.hostKeyBlob),
      readyTimeout: 10_000,
      ...config,
    });
  });
}
