import { createServer, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AGENT_LOGIN_NAME,
  PROBE_ORIGIN,
  RETURN_ORIGIN,
  generateParsableEd25519,
  fingerprintOfBlob,
  silentLogger,
  type LifelineError,
} from '@lifeline/shared';
import { RelayDialer, type RelayDialerOptions } from './relay-dialer.js';
import { RelayTunnel, type TunnelState } from './relay-tunnel.js';

const hostPair = generateParsableEd25519('relay');
const agentPair = generateParsableEd25519('agent');
const hostBlob = (ssh2.utils.parseKey(hostPair.public) as ssh2.ParsedKey).getPublicSSH();
const hostFingerprint = fingerprintOfBlob(hostBlob);

interface FakeRelay {
  port: number;
  forwards: string[];
  connections: ssh2.Connection[];
  /** direct-tcpip channels the agent opened: on which connection, from and to. */
  probes: Array<{ connection: number; from: string; to: string }>;
  /** Opens a stream to the agent through the tunnel it registered. */
  openStream(deviceId: string, origin?: string): Promise<Duplex>;
  /** When each agent connection came in (Date.now()). */
  connectedAt: number[];
  close(): Promise<void>;
}

/** A real ssh2 server standing in for the relay: takes the agent key, accepts forwards it allows. */
async function startFakeRelay(options: { allowForward?: (deviceId: string) => boolean; acceptKey?: boolean } = {}): Promise<FakeRelay> {
  const forwards: string[] = [];
  const connections: ssh2.Connection[] = [];
  const probes: FakeRelay['probes'] = [];
  const registered = new Map<string, { conn: ssh2.Connection; port: number }>();
  const connectedAt: number[] = [];
  const server = new ssh2.Server({ hostKeys: [hostPair.private] }, (conn) => {
    connections.push(conn);
    connectedAt.push(Date.now());
    conn.on('authentication', (ctx) => {
      if (ctx.method === 'publickey' && ctx.username === AGENT_LOGIN_NAME && options.acceptKey !== false) ctx.accept();
      else ctx.reject(['publickey']);
    });
    conn.on('request', (accept, reject, name, info) => {
      const { bindAddr } = info as { bindAddr: string };
      if (name !== 'tcpip-forward' || !(options.allowForward ?? (() => true))(bindAddr)) return reject?.();
      forwards.push(bindAddr);
      registered.set(bindAddr, { conn, port: 10_000 + forwards.length });
      accept?.(10_000 + forwards.length);
    });
    conn.on('tcpip', (accept, _reject, info) => {
      probes.push({ connection: connections.indexOf(conn), from: info.srcIP, to: info.destIP });
      accept().end('pong\n');
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    forwards,
    probes,
    connections,
    connectedAt,
    openStream: (deviceId, origin = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        const r = registered.get(deviceId);
        if (!r) return reject(new Error('not registered'));
        r.conn.forwardOut(deviceId, r.port, origin, 1, (err, stream) => (err ? reject(err) : resolve(stream)));
      }),
    close: () =>
      new Promise((resolve) => {
        for (const c of connections) c.end();
        server.close(() => resolve());
      }),
  };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function waitForState(changes: TunnelState[], state: TunnelState, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (changes.includes(state)) return resolve();
      if (Date.now() > deadline) return reject(new Error(`never reached ${state}: ${changes.join(' -> ')}`));
      setTimeout(check, 10);
    };
    check();
  });
}

let relay: FakeRelay | undefined;
let tunnel: RelayTunnel | undefined;
afterEach(async () => {
  await tunnel?.stop();
  await relay?.close();
  tunnel = relay = undefined;
});

function startTunnel(
  port: number,
  hostKey = hostFingerprint,
  onStream: (id: string, s: Duplex) => void = () => {},
  overrides: Pick<RelayDialerOptions, 'lookup'> & { relay?: RelayDialerOptions['relay'] } = {},
) {
  const states: TunnelState[] = [];
  const errors: LifelineError[] = [];
  const dialer = new RelayDialer({
    relay: overrides.relay ?? { host: '127.0.0.1', port, hostKey, alternates: [] },
    ...(overrides.lookup ? { lookup: overrides.lookup } : {}),
    privateKey: Buffer.from(agentPair.private),
    connectTimeoutMs: 5_000,
    keepalive: { intervalMs: 10_000, countMax: 2 },
    logger: silentLogger(),
  });
  tunnel = new RelayTunnel({
    dialer,
    deviceIds: ['rtr-1'],
    reconnect: { baseMs: 20, capMs: 50 },
    logger: silentLogger(),
    onStream,
    onStateChange: ({ to, error }) => {
      states.push(to);
      if (error) errors.push(error);
    },
  });
  tunnel.start();
  return { states, errors };
}

describe('RelayTunnel', () => {
  it('counts as connected only once the relay accepted the tunnel named after the device', async () => {
    relay = await startFakeRelay();
    const { states } = startTunnel(relay.port);
    await waitForState(states, 'connected');
    expect(states.slice(0, 2)).toEqual(['connecting', 'connected']);
    expect(relay.forwards).toEqual(['rtr-1']);
  });

  it('hands streams the relay opens for its device to the console side', async () => {
    relay = await startFakeRelay();
    const streams: string[] = [];
    const { states } = startTunnel(relay.port, hostFingerprint, (id, s) => {
      streams.push(id);
      s.end();
    });
    await waitForState(states, 'connected');
    const stream = await relay.openStream('rtr-1');
    stream.resume();
    await new Promise((r) => stream.once('end', r));
    expect(streams).toEqual(['rtr-1']);
  });

  it('refuses a relay whose host key is not the pinned one, loudly, and keeps trying', async () => {
    relay = await startFakeRelay();
    const wrong = `SHA256:${'B'.repeat(43)}`;
    const { states, errors } = startTunnel(relay.port, wrong);
    await waitForState(states, 'backoff');
    expect(errors[0]?.code).toBe('TUNNEL_HOSTKEY_MISMATCH');
    expect(errors[0]?.message).toContain(hostFingerprint);
    expect(errors[0]?.message).toContain(wrong);
    expect(relay.forwards).toEqual([]);
    await new Promise((r) => setTimeout(r, 150));
    expect(states.filter((s) => s === 'connecting').length).toBeGreaterThan(1);
  });

  it('reports a relay that does not accept its key', async () => {
    relay = await startFakeRelay({ acceptKey: false });
    const { states, errors } = startTunnel(relay.port);
    await waitForState(states, 'backoff');
    expect(errors[0]?.code).toBe('TUNNEL_AUTH_REJECTED');
  });

  it('reports a refused tunnel and does not count as connected', async () => {
    relay = await startFakeRelay({ allowForward: () => false });
    const { states, errors } = startTunnel(relay.port);
    await waitForState(states, 'backoff');
    expect(states).not.toContain('connected');
    expect(errors[0]?.code).toBe('TUNNEL_FORWARD_REJECTED');
  });

  it('reconnects by itself when the relay drops the connection', async () => {
    relay = await startFakeRelay();
    const { states } = startTunnel(relay.port);
    await waitForState(states, 'connected');
    relay.connections[0]?.end();
    await waitForState(states, 'backoff');
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 5_000;
      const check = () =>
        states.filter((s) => s === 'connected').length >= 2
          ? resolve()
          : Date.now() > deadline
            ? reject(new Error(states.join()))
            : setTimeout(check, 10);
      check();
    });
    expect(relay.forwards).toEqual(['rtr-1', 'rtr-1']);
  });

  it('reconnects when told the tunnel is unhealthy, and says why', async () => {
    relay = await startFakeRelay();
    const { states, errors } = startTunnel(relay.port);
    await waitForState(states, 'connected');
    tunnel!.restart('health check failed');
    await waitForState(states, 'backoff');
    expect(errors.at(-1)?.code).toBe('TUNNEL_UNHEALTHY');
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 5_000;
      const check = () =>
        states.filter((s) => s === 'connected').length >= 2
          ? resolve()
          : Date.now() > deadline
            ? reject(new Error(states.join()))
            : setTimeout(check, 10);
      check();
    });
  });

  it('resolves the relay name afresh on every attempt', async () => {
    relay = await startFakeRelay();
    const port = relay.port;
    const asked: string[] = [];
    // First the name points where nothing listens (the relay "moved"), then to the relay.
    const answers = ['127.0.0.2', '127.0.0.1'];
    const { states } = startTunnel(port, hostFingerprint, undefined, {
      relay: { host: 'relay.example.test', port, hostKey: hostFingerprint, alternates: [] },
      lookup: async (host) => {
        asked.push(host);
        return answers.shift() ?? '127.0.0.1';
      },
    });
    await waitForState(states, 'connected');
    expect(asked).toEqual(['relay.example.test', 'relay.example.test']);
  });

  it('tries the relay addresses in order, and the primary first again after a connection', async () => {
    relay = await startFakeRelay();
    const dead = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const tried: string[] = [];
    const { states } = startTunnel(dead, hostFingerprint, undefined, {
      relay: { host: 'primary', port: dead, hostKey: hostFingerprint, alternates: [{ host: 'secondary', port: relay.port }] },
      lookup: async (host) => {
        tried.push(host);
        return '127.0.0.1';
      },
    });
    await waitForState(states, 'connected');
    expect(tried).toEqual(['primary', 'secondary']);
    relay.connections.at(-1)?.end();
    await waitForState(states, 'backoff');
    await new Promise((r) => setTimeout(r, 200));
    expect(tried[2]).toBe('primary');
  });

  it('opens health-check probe channels on its own connection, and refuses them while not connected', async () => {
    relay = await startFakeRelay();
    const { states } = startTunnel(relay.port);
    await expect(tunnel!.openProbe('rtr-1')).rejects.toMatchObject({ code: 'TUNNEL_CLOSED' });
    await waitForState(states, 'connected');
    const channel = await tunnel!.openProbe('rtr-1');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      channel.on('data', (d: Buffer) => (text += d.toString()));
      channel.on('end', () => resolve(text));
    });
    expect(answer).toBe('pong\n');
    expect(relay.probes).toEqual([{ connection: 0, from: PROBE_ORIGIN, to: 'rtr-1' }]);
    expect(relay.connections).toHaveLength(1);
  });

  it('comes back when a stopping relay asks it to, not on its backoff, and only once', async () => {
    relay = await startFakeRelay();
    const { states, errors } = startTunnel(relay.port);
    await waitForState(states, 'connected');
    for (const delay of [600, 50]) {
      const notice = await relay.openStream('rtr-1', RETURN_ORIGIN);
      notice.end(`RETURN ${delay}\n`);
    }
    await new Promise((r) => setTimeout(r, 100));
    const closedAt = Date.now();
    relay.connections[0]!.end();
    await waitFor(() => relay!.connectedAt.length === 2, 5_000);
    // The backoff here is 20-50 ms: only the first notice's 600 ms explains the wait.
    expect(relay.connectedAt[1]! - closedAt).toBeGreaterThanOrEqual(550);
    expect(errors.at(-1)?.message).toMatch(/asked this agent to come back later/);
  });

  it('ignores a notice that is not one, and reconnects on its backoff', async () => {
    relay = await startFakeRelay();
    const { states } = startTunnel(relay.port);
    await waitForState(states, 'connected');
    const notice = await relay.openStream('rtr-1', RETURN_ORIGIN);
    notice.end('RETURN soon\n');
    await new Promise((r) => setTimeout(r, 100));
    const closedAt = Date.now();
    relay.connections[0]!.end();
    await waitFor(() => relay!.connectedAt.length === 2, 5_000);
    expect(relay.connectedAt[1]! - closedAt).toBeLessThan(500);
  });

  it('stays closed after stop', async () => {
    relay = await startFakeRelay();
    const { states } = startTunnel(relay.port);
    await waitForState(states, 'connected');
    await tunnel!.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(states.at(-1)).toBe('closed');
    expect(tunnel!.state).toBe('closed');
  });
});
