import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { AGENT_LOGIN_NAME } from '@lifeline/shared';
import { ALICE_PASSWORD, connectClient, startTestRelay, type TestRelay, type TestRelayOptions } from './testing/relay-test-harness.js';

// Real sockets on loopback; "another address" is 127.0.0.2 (loopback answers the whole 127/8).
const relays: TestRelay[] = [];
const sockets: Socket[] = [];
const clients: ssh2.Client[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of clients.splice(0)) c.end();
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

async function relayWith(limits: TestRelayOptions['limits']) {
  const relay = await startTestRelay({ limits });
  relays.push(relay);
  return relay;
}

/** A raw TCP connection that records what the relay sent and when it closed. */
function rawConnection(relay: TestRelay, localAddress = '127.0.0.1') {
  const socket = connect({ host: relay.host, port: relay.port, localAddress });
  sockets.push(socket);
  const opened = Date.now();
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  return { socket, connected, closed, received: () => received };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);
}

describe('login grace time', () => {
  it('closes an idle connection that never says anything once the grace time is up', async () => {
    const relay = await relayWith({ loginGraceMs: 1_000 });
    const idle = rawConnection(relay);
    const closedAfter = await within(idle.closed, 5_000, 'idle connection closed');
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(idle.received()).toMatch(/^SSH-2\.0-lifeline/);
    await relay.waitForLog('ssh.login-grace-expired', { peer: '127.0.0.1' });
  });

  it('closes a client sending its banner one byte per second', async () => {
    const relay = await relayWith({ loginGraceMs: 2_000 });
    const slow = rawConnection(relay);
    await slow.connected;
    const banner = 'SSH-2.0-slowloris-client-with-a-long-name\r\n';
    let sent = 0;
    const drip = setInterval(() => {
      if (!slow.socket.destroyed && sent < banner.length) slow.socket.write(banner[sent++]!);
    }, 1_000);
    try {
      const closedAfter = await within(slow.closed, 6_000, 'slow-banner connection closed');
      expect(closedAfter).toBeGreaterThanOrEqual(1_900);
      expect(sent).toBeLessThan(banner.length);
    } finally {
      clearInterval(drip);
    }
  });

  it('closes a client that finished key exchange but never logs in', async () => {
    const relay = await relayWith({ loginGraceMs: 1_000 });
    const client = new ssh2.Client();
    clients.push(client);
    const handshake = new Promise<void>((resolve) => client.once('handshake', () => resolve()));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => undefined);
    // An auth handler that never answers: the client sits after key exchange.
    client.connect({
      host: relay.host,
      port: relay.port,
      username: 'alice',
      hostVerifier: () => true,
      authHandler: () => undefined,
      readyTimeout: 30_000,
    });
    await within(handshake, 5_000, 'key exchange');
    const started = Date.now();
    await within(closed, 5_000, 'connection closed after key exchange');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(relay.logs.some((l) => l.event === 'auth.success')).toBe(false);
  });

  it('does not close a connection that logged in', async () => {
    const relay = await relayWith({ loginGraceMs: 3_000 });
    const client = await connectClient(relay, { username: 'bob', privateKey: relay.keys.bob.privateKey });
    clients.push(client);
    let closed = false;
    client.once('close', () => (closed = true));
    await new Promise((r) => setTimeout(r, 3_500));
    expect(closed).toBe(false);
    expect(relay.logs.some((l) => l.event === 'ssh.login-grace-expired')).toBe(false);
  });
});

describe('caps on connections that have not logged in', () => {
  it('refuses the connection past the per-address cap at once, while other addresses still log in', async () => {
    const relay = await relayWith({ maxUnauthenticatedPerAddress: 3 });
    const held = [rawConnection(relay), rawConnection(relay), rawConnection(relay)];
    await Promise.all(held.map((h) => h.connected));
    // The relay greets admitted connections; wait for that so all three are counted.
    await within(
      waitUntil(() => held.every((h) => h.received().startsWith('SSH-2.0-'))),
      5_000,
      'greetings',
    );
    const extra = rawConnection(relay);
    const closedAfter = await within(extra.closed, 2_000, 'the fourth connection closed');
    expect(closedAfter).toBeLessThan(1_000);
    expect(extra.received()).toBe(''); // closed before ssh2 saw it: not even a greeting
    const line = await relay.waitForLog('ssh.preauth-limit', { reason: 'per-address', peer: '127.0.0.1' });
    expect(line).toMatchObject({ limit: 3, unauthenticated: 3 });

    const other = await connectClient(relay, { username: 'alice', password: ALICE_PASSWORD, localAddress: '127.0.0.2' });
    clients.push(other);
    // A place freed by a closed connection can be taken again.
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await new Promise((r) => setTimeout(r, 100));
    const again = rawConnection(relay);
    await within(
      waitUntil(() => again.received().startsWith('SSH-2.0-')),
      5_000,
      'greeting after a place was freed',
    );
  });

  it('keeps no more idle connections than the caps allow, however many arrive', async () => {
    const relay = await relayWith({ maxUnauthenticatedPerAddress: 10, maxUnauthenticated: 15 });
    const flood = Array.from({ length: 40 }, (_, i) => rawConnection(relay, `127.0.0.${1 + (i % 2)}`));
    await Promise.all(flood.map((f) => f.connected));
    await new Promise((r) => setTimeout(r, 500));
    const open = flood.filter((f) => !f.socket.destroyed && f.received().startsWith('SSH-2.0-'));
    expect(open).toHaveLength(15);
    // A third address meets the total cap.
    const third = rawConnection(relay, '127.0.0.3');
    await within(third.closed, 2_000, 'connection over the total cap closed');
    await relay.waitForLog('ssh.preauth-limit', { reason: 'total' }, 12_000);
  });
});

describe('load shedding before key exchange', () => {
  it('closes new connections at accept, without a banner, while handshakes are in flight past the limit; agents get in once they finish', async () => {
    const relay = await relayWith({ handshakesInFlight: 2 });
    // Two connections that never send their banner hold both handshake places.
    const holders = [rawConnection(relay), rawConnection(relay)];
    await Promise.all(holders.map((h) => h.connected));
    await within(
      waitUntil(() => holders.every((h) => h.received().startsWith('SSH-2.0-'))),
      5_000,
      'banners to the holders',
    );
    // A real SSH client (an agent) is closed before any key exchange.
    const shed = await agentLogin(relay);
    expect(shed.outcome).toMatch(/before handshake|ECONNRESET|closed/i);
    expect(shed.banner).toBe(false);
    const raw = rawConnection(relay);
    await within(raw.closed, 2_000, 'shed raw connection closed');
    expect(raw.received()).toBe('');
    const shedding = await relay.waitForLog('ssh.shedding', { limit: 2 });
    expect(shedding.handshakesInFlight).toBe(2);
    // One holder goes: the next agent logs in; the streak is logged once (its end comes after
    // ten quiet seconds, preauth-limiter.test.ts).
    holders[0]!.socket.destroy();
    await holders[0]!.closed;
    const admitted = await agentLogin(relay);
    expect(admitted.outcome).toBe('ready');
    expect(relay.logs.filter((l) => l.event === 'ssh.shedding')).toHaveLength(1);
  });
});

/** An agent's key login with a real ssh2 client: 'ready', or how it failed, and whether the relay's banner arrived. */
async function agentLogin(relay: TestRelay): Promise<{ outcome: string; banner: boolean }> {
  const client = new ssh2.Client();
  clients.push(client);
  let banner = false;
  client.on('greeting', () => (banner = true));
  client.on('handshake', () => (banner = true));
  const outcome = await within(
    new Promise<string>((resolve) => {
      client.once('ready', () => resolve('ready'));
      client.once('error', (err) => resolve(err.message));
      client.once('close', () => resolve('closed'));
      client.connect({
        host: relay.host,
        port: relay.port,
        username: AGENT_LOGIN_NAME,
        privateKey: relay.keys.agentA.privateKey,
        readyTimeout: 5_000,
      });
    }),
    6_000,
    'agent login',
  );
  return { outcome, banner };
}

async function waitUntil(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}
