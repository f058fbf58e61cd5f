import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_LOGIN_NAME,
  PROBE_ORIGIN,
  encodeProbe,
  fingerprintOfBlob,
  isLifelineError,
  newProbeNonce,
  parsePublicKeyLine,
  readProbeLine,
} from '@lifeline/shared';
import type ssh2 from 'ssh2';
import { connectClient, startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

let relay: TestRelay;
const clients: ssh2.Client[] = [];

beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay.close();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.end();
});

async function agent(key: 'agentA' | 'agentB' = 'agentA'): Promise<ssh2.Client> {
  const client = await connectClient(relay, { username: AGENT_LOGIN_NAME, privateKey: relay.keys[key].privateKey });
  clients.push(client);
  return client;
}

function forwardIn(client: ssh2.Client, name: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => client.forwardIn(name, port, (err, bound) => (err ? reject(err) : resolve(bound))));
}

function readSome(stream: Duplex): Promise<string> {
  return new Promise((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString('utf8'))));
}

describe('edge agents', () => {
  it('register their own device and the registrar gets a tunnel whose streams reach the agent', async () => {
    const client = await agent();
    const incoming: ssh2.TcpConnectionDetails[] = [];
    client.on('tcp connection', (details, accept) => {
      incoming.push(details);
      const stream = accept();
      stream.on('data', (d: Buffer) => stream.write(`agent got ${d.toString('utf8')}`));
    });
    const port = await forwardIn(client, 'dev1');
    expect(port).toBeGreaterThanOrEqual(10_000);
    const tunnel = await relay.registrar.until(() => relay.registrar.tunnels.find((t) => t.tunnelPort === port));
    expect(tunnel).toMatchObject({
      deviceId: 'dev1',
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      agentFingerprint: fingerprintOfBlob(parsePublicKeyLine(relay.keys.agentA.publicKeyLine).getPublicSSH()),
    });
    expect(tunnel.since).toBeGreaterThan(0);

    const stream = await tunnel.openStream({ address: '10.1.2.3', port: 4242 });
    stream.write('hello');
    expect(await readSome(stream)).toBe('agent got hello');
    expect(incoming).toEqual([{ destIP: 'dev1', destPort: port, srcIP: '10.1.2.3', srcPort: 4242 }]);
  });

  it('get a new, higher virtual port for every registration', async () => {
    const client = await agent();
    const p1 = await forwardIn(client, 'dev1');
    const p2 = await forwardIn(client, 'dev2');
    const again = await forwardIn(await agent(), 'dev1');
    expect(p2).toBeGreaterThan(p1);
    expect(again).toBeGreaterThan(p2);
  });

  it('may not register a device their key does not serve', async () => {
    const client = await agent('agentA');
    await expect(forwardIn(client, 'dev3')).rejects.toThrow(/Unable to bind to dev3:0/);
    await relay.waitForLog('agent.request.refused', { request: 'tcpip-forward', bindAddr: 'dev3' });
    await expect(forwardIn(client, '127.0.0.1')).rejects.toThrow(/Unable to bind/);
  });

  it('must let the relay pick the port', async () => {
    await expect(forwardIn(await agent(), 'dev1', 2222)).rejects.toThrow(/Unable to bind to dev1:2222/);
  });

  it('may not register the same device twice on one connection', async () => {
    const client = await agent();
    await forwardIn(client, 'dev2');
    await expect(forwardIn(client, 'dev2')).rejects.toThrow(/Unable to bind/);
  });

  it('get no shell', async () => {
    const client = await agent();
    const err = await new Promise<Error | undefined>((resolve) => client.shell(false, (e) => resolve(e)));
    expect(err?.message).toMatch(/open failure/i);
    await relay.waitForLog('agent.request.refused', { request: 'session' });
  });

  it('may not open direct-tcpip channels through the relay', async () => {
    const client = await agent();
    const err = await new Promise<Error | undefined>((resolve) =>
      client.forwardOut('127.0.0.1', 1, '127.0.0.1', relay.port, (e) => resolve(e)),
    );
    expect(err?.message).toMatch(/open failure/i);
    await relay.waitForLog('agent.request.refused', { request: 'direct-tcpip' });
  });

  describe('health-check probes', () => {
    function probe(client: ssh2.Client, deviceId: string): Promise<Duplex> {
      return new Promise((resolve, reject) => client.forwardOut(PROBE_ORIGIN, 0, deviceId, 0, (e, ch) => (e ? reject(e) : resolve(ch))));
    }
    /** An agent holding the tunnel for `deviceId`; answers probes with `answer(line)`. */
    async function tunnelHolder(deviceId: string, answer: (line: string) => string | undefined): Promise<ssh2.Client> {
      const holder = await agent();
      holder.on('tcp connection', (details, accept) => {
        const stream = accept();
        expect(details.srcIP).toBe(PROBE_ORIGIN);
        void readProbeLine(stream).then((line) => {
          const reply = line === undefined ? undefined : answer(line);
          if (reply !== undefined) stream.write(`${reply}\n`);
        });
      });
      await forwardIn(holder, deviceId);
      return holder;
    }

    it('come back through the registered tunnel when the agent answers its own nonce', async () => {
      await tunnelHolder('dev1', (line) => line);
      const channel = await probe(await agent(), 'dev1');
      const nonce = newProbeNonce();
      channel.write(encodeProbe(nonce));
      expect(await readProbeLine(channel)).toBe(`LIFELINE-PROBE ${nonce}`);
      const record = await relay.registrar.until(() => relay.registrar.checks.find((c) => c.deviceId === 'dev1'));
      expect(record.check).toMatchObject({ ok: true, rttMs: expect.any(Number) });
    });

    it('fail when the answer does not match the nonce', async () => {
      await tunnelHolder('dev2', () => `LIFELINE-PROBE ${newProbeNonce()}`);
      const channel = await probe(await agent(), 'dev2');
      channel.write(encodeProbe(newProbeNonce()));
      expect(await readProbeLine(channel)).toBeUndefined();
      const record = await relay.registrar.until(() => relay.registrar.checks.find((c) => c.deviceId === 'dev2' && !c.check.ok));
      expect(record.check.error).toMatch(/did not match/);
    });

    it('are refused for a device of another agent key', async () => {
      await expect(probe(await agent('agentA'), 'dev3')).rejects.toThrow(/open failure/i);
    });
  });

  it('cannot log in with a key no device names', async () => {
    await expect(connectClient(relay, { username: AGENT_LOGIN_NAME, privateKey: relay.keys.stranger.privateKey })).rejects.toThrow(
      /authentication methods failed/,
    );
    // ssh2 asks whether the key would do before signing; an unknown key stops at that probe.
    await relay.waitForLog('auth.method-refused', { user: AGENT_LOGIN_NAME, reason: 'key-probe-not-authorised' });
  });

  it('cannot log in with a person key either', async () => {
    await expect(connectClient(relay, { username: AGENT_LOGIN_NAME, privateKey: relay.keys.alice.privateKey })).rejects.toThrow(
      /authentication methods failed/,
    );
  });

  it('close the tunnel by cancelling the forward: onClosed fires and streams are refused', async () => {
    const client = await agent();
    const port = await forwardIn(client, 'dev2');
    const tunnel = await relay.registrar.until(() => relay.registrar.tunnels.find((t) => t.tunnelPort === port));
    let closed = 0;
    tunnel.onClosed(() => closed++);
    await new Promise<void>((resolve, reject) => client.unforwardIn('dev2', port, (err) => (err ? reject(err) : resolve())));
    expect(closed).toBe(1);
    await expect(tunnel.openStream({ address: '127.0.0.1', port: 1 })).rejects.toSatisfy((e) => isLifelineError(e, 'TUNNEL_CLOSED'));
  });

  it('may not cancel a forward that is not theirs', async () => {
    const client = await agent();
    const err = await new Promise<Error | undefined>((resolve) => client.unforwardIn('dev1', 10_001, (e) => resolve(e ?? undefined)));
    expect(err?.message).toMatch(/Unable to unbind/);
  });

  it('close the tunnel by disconnecting: onClosed fires once, also for listeners added later', async () => {
    const client = await agent();
    const port = await forwardIn(client, 'dev1');
    const tunnel = await relay.registrar.until(() => relay.registrar.tunnels.find((t) => t.tunnelPort === port));
    let closed = 0;
    const first = new Promise<void>((resolve) => tunnel.onClosed(() => (closed++, resolve())));
    client.end();
    await first;
    await relay.waitForLog('connection.close', { peer: tunnel.peer });
    expect(closed).toBe(1);
    const late = await new Promise<boolean>((resolve) => tunnel.onClosed(() => resolve(true)));
    expect(late).toBe(true);
    await expect(tunnel.openStream({ address: '127.0.0.1', port: 1 })).rejects.toSatisfy((e) => isLifelineError(e, 'TUNNEL_CLOSED'));
  });

  it('are disconnected when the registrar closes their tunnel', async () => {
    const client = await agent();
    const ended = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const port = await forwardIn(client, 'dev1');
    const tunnel = await relay.registrar.until(() => relay.registrar.tunnels.find((t) => t.tunnelPort === port));
    tunnel.close('replaced by a newer tunnel');
    await ended;
  });

  it('turn into TUNNEL_CLOSED when the agent refuses a stream', async () => {
    const client = await agent();
    client.on('tcp connection', (_details, _accept, reject) => reject());
    const port = await forwardIn(client, 'dev1');
    const tunnel = await relay.registrar.until(() => relay.registrar.tunnels.find((t) => t.tunnelPort === port));
    await expect(tunnel.openStream({ address: '127.0.0.1', port: 1 })).rejects.toSatisfy((e) => isLifelineError(e, 'TUNNEL_CLOSED'));
  });
});
