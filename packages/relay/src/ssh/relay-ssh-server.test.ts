import { afterEach, describe, expect, it } from 'vitest';
import { isLifelineError, relayConfigSchema, silentLogger } from '@lifeline/shared';
import { connect, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { createRelaySshServer } from './relay-ssh-server.js';
import { FakeBroker, FakeRegistrar } from './testing/fake-console.js';
import { ALICE_PASSWORD, connectClient, generateUsableKeyPair, startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

const relays: TestRelay[] = [];
async function relayWith(options: Parameters<typeof startTestRelay>[0] = {}) {
  const relay = await startTestRelay(options);
  relays.push(relay);
  return relay;
}
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

function handshakeOf(client: ssh2.Client): Promise<ssh2.NegotiatedAlgorithms> {
  return new Promise((resolve) => client.once('handshake', resolve));
}

describe('relay SSH server', () => {
  it('listens on the configured host and a free port when asked for port 0', async () => {
    const relay = await relayWith();
    expect(relay.host).toBe('127.0.0.1');
    expect(relay.port).toBeGreaterThan(0);
  });

  it('negotiates curve25519 and the Ed25519 host key with a client that offers everything', async () => {
    const relay = await relayWith();
    const client = new ssh2.Client();
    const negotiated = handshakeOf(client);
    const ready = new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
    });
    client.connect({ host: relay.host, port: relay.port, username: 'alice', password: ALICE_PASSWORD, hostVerifier: () => true });
    expect(await negotiated).toMatchObject({ kex: 'curve25519-sha256@libssh.org', serverHostKey: 'ssh-ed25519' });
    await ready;
    client.end();
  });

  it('refuses a client that only speaks Diffie-Hellman group exchange', async () => {
    const relay = await relayWith();
    const err = await connectClient(relay, {
      username: 'alice',
      password: ALICE_PASSWORD,
      algorithms: { kex: ['diffie-hellman-group-exchange-sha256', 'diffie-hellman-group14-sha256'] },
    }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/no matching key exchange/i);
  });

  it('refuses a client that only speaks CBC ciphers or SHA-1 MACs', async () => {
    const relay = await relayWith();
    const cbc = await connectClient(relay, { username: 'alice', password: ALICE_PASSWORD, algorithms: { cipher: ['aes128-cbc'] } }).catch(
      (e: Error) => e,
    );
    expect((cbc as Error).message).toMatch(/no matching/i);
    const sha1 = await connectClient(relay, {
      username: 'alice',
      password: ALICE_PASSWORD,
      algorithms: { cipher: ['aes128-ctr'], hmac: ['hmac-sha1'] },
    }).catch((e: Error) => e);
    expect((sha1 as Error).message).toMatch(/no matching/i);
  });

  it('disconnects an address after too many failed logins and refuses it until the window passes', async () => {
    const relay = await relayWith({ auth: { maxFailuresPerWindow: 2, failureDelayMs: 0, windowMs: 60_000 } });
    await expect(connectClient(relay, { username: 'alice', password: 'bad-1' })).rejects.toThrow(/authentication methods failed/);
    // The second failure reaches the limit: the relay hangs up instead of answering again.
    const second = await connectClient(relay, { username: 'alice', password: 'bad-2' }).catch((e: Error) => e);
    expect(second).toBeInstanceOf(Error);
    await relay.waitForLog('auth.throttled');
    // Now even the right password gets nowhere from this address.
    await expect(connectClient(relay, { username: 'alice', password: ALICE_PASSWORD })).rejects.toThrow();
    await relay.waitForLog('auth.failure', { reason: 'address-throttled' });
    expect(relay.logs.some((l) => l.event === 'auth.success')).toBe(false);
  });

  it('ends every connection on close() and resolves once they are gone', async () => {
    const relay = await startTestRelay();
    const person = await connectClient(relay, { username: 'alice', password: ALICE_PASSWORD });
    const agent = await connectClient(relay, { username: 'lifeline-agent', privateKey: relay.keys.agentA.privateKey });
    const closed = Promise.all([person, agent].map((c) => new Promise<void>((resolve) => c.once('close', () => resolve()))));
    await relay.close();
    await closed;
    await expect(connectClient(relay, { username: 'alice', password: ALICE_PASSWORD })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses at creation a config whose password hash it cannot use', async () => {
    const config = relayConfigSchema.parse({
      listen: { host: '127.0.0.1', port: 0 },
      hostKeyFile: '/nonexistent',
      users: [{ name: 'a', password: '$scrypt$not-a-hash', devices: ['d'] }],
      devices: [{ id: 'd', agentKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOKtha5twaOwjhUpjHRtSGhMg9bhEFAJDv8RrSi8VBd6' }],
    });
    const hostKey = Buffer.from(generateUsableKeyPair('host').private);
    let caught: unknown;
    try {
      createRelaySshServer({
        config,
        hostKey,
        broker: new FakeBroker(),
        tunnels: new FakeRegistrar(),
        logger: silentLogger(),
        keepaliveIntervalMs: config.keepalive.intervalMs,
        keepaliveCountMax: config.keepalive.countMax,
      });
    } catch (err) {
      caught = err;
    }
    expect(isLifelineError(caught, 'CONFIG_INVALID')).toBe(true);
  });

  it('closes connections past maxConnections at accept, says so in the log, and takes new ones once one has gone', async () => {
    const relay = await relayWith({ server: { maxConnections: 1 } });
    const banner = (socket: Socket) =>
      new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          if (text.includes('\n')) resolve(text);
        });
        socket.on('close', () => resolve(text));
      });
    const first = connect(relay.port, relay.host);
    expect(await banner(first)).toMatch(/^SSH-2\.0-lifeline/);
    const second = connect(relay.port, relay.host);
    expect(await banner(second)).toBe('');
    expect(await relay.waitForLog('ssh.connection-limit')).toMatchObject({ limit: 1, refused: 1 });
    first.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const third = connect(relay.port, relay.host);
    expect(await banner(third)).toMatch(/^SSH-2\.0-lifeline/);
    third.destroy();
  });
});
