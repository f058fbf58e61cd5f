import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@lifeline/shared/testing';
import {
  AGENT_LOGIN_NAME,
  PROBE_ORIGIN,
  encodeProbe,
  fingerprintOfBlob,
  generateParsableEd25519,
  newProbeNonce,
  readProbeLine,
  silentLogger,
} from '@lifeline/shared';
import { FIRST_CHECK_SPREAD, HealthChecker, type HealthResult } from './health-checker.js';
import { RelayDialer } from './relay-dialer.js';
import { ProbeResponder } from './probe-responder.js';

const hostPair = generateParsableEd25519('relay');
const agentPair = generateParsableEd25519('agent');
const hostFingerprint = fingerprintOfBlob((ssh2.utils.parseKey(hostPair.public) as ssh2.ParsedKey).getPublicSSH());

/**
 * A relay stand-in: it accepts the agent's probe channel and hands the probe line to `route`,
 * which plays the tunnel (answer it through a responder, drop it, change it).
 */
async function startRelay(
  route: (line: string, reply: (line: string) => void) => void,
): Promise<{ port: number; logins(): number; close(): Promise<void> }> {
  let logins = 0;
  const server = new ssh2.Server({ hostKeys: [hostPair.private] }, (conn) => {
    conn.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.username !== AGENT_LOGIN_NAME) return ctx.reject(['publickey']);
      if (ctx.signature) logins += 1;
      ctx.accept();
    });
    conn.on('tcpip', (accept, _reject, info) => {
      expect(info.srcIP).toBe(PROBE_ORIGIN);
      const channel = accept();
      void readProbeLine(channel).then((line) => line !== undefined && route(line, (answer) => channel.write(`${answer}\n`)));
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    logins: () => logins,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What the agent's tunnel side does with a probe the relay routed back: the real responder. */
function throughResponder(responder: ProbeResponder) {
  return (line: string, reply: (line: string) => void) => {
    let answered = '';
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        answered += chunk.toString();
        if (answered.endsWith('\n')) reply(answered.trimEnd());
        callback();
      },
    });
    responder.answer(stream);
    stream.push(`${line}\n`);
  };
}

let relay: Awaited<ReturnType<typeof startRelay>> | undefined;
let tunnel: ssh2.Client | undefined;
afterEach(async () => {
  tunnel?.end();
  tunnel = undefined;
  await relay?.close();
  relay = undefined;
});

/** The agent's tunnel connection to the stand-in relay: probes open channels on it, as RelayTunnel.openProbe does. */
async function connectTunnel(port: number): Promise<(deviceId: string) => Promise<Duplex>> {
  const dialer = new RelayDialer({
    relay: { host: '127.0.0.1', port, alternates: [], hostKey: hostFingerprint },
    privateKey: Buffer.from(agentPair.private),
    connectTimeoutMs: 2_000,
    keepalive: { intervalMs: 10_000, countMax: 2 },
    logger: silentLogger(),
  });
  const { client } = await dialer.dial({ host: '127.0.0.1', port });
  tunnel = client;
  return (deviceId) =>
    new Promise((resolve, reject) =>
      client.forwardOut(PROBE_ORIGIN, 0, deviceId, 0, (err, channel) => (err ? reject(err) : resolve(channel))),
    );
}

function makeChecker(
  openProbe: (deviceId: string) => Promise<Duplex>,
  responder: ProbeResponder,
  extra: { failuresBeforeReconnect?: number; timeoutMs?: number; clock?: FakeClock; random?: () => number } = {},
) {
  const results: HealthResult[] = [];
  const unhealthy: string[] = [];
  const checker = new HealthChecker({
    openProbe,
    deviceIds: ['rtr-1'],
    intervalMs: 60_000,
    timeoutMs: extra.timeoutMs ?? 2_000,
    failuresBeforeReconnect: extra.failuresBeforeReconnect ?? 2,
    responder,
    logger: silentLogger(),
    onResult: (r) => results.push(r),
    onUnhealthy: (reason) => unhealthy.push(reason),
    ...(extra.clock ? { clock: extra.clock } : {}),
    ...(extra.random ? { random: extra.random } : {}),
  });
  return { checker, results, unhealthy };
}

describe('HealthChecker', () => {
  it('passes when its own nonce comes back through the tunnel, and keeps the round-trip time', async () => {
    const responder = new ProbeResponder();
    relay = await startRelay(throughResponder(responder));
    const { checker, results } = makeChecker(await connectTunnel(relay.port), responder);
    const [result] = await checker.checkNow();
    expect(result).toMatchObject({ deviceId: 'rtr-1', ok: true, rttMs: expect.any(Number) });
    expect(results).toHaveLength(1);
  });

  it('spends no login on a check: every probe rides the tunnel connection', async () => {
    const responder = new ProbeResponder();
    relay = await startRelay(throughResponder(responder));
    const { checker } = makeChecker(await connectTunnel(relay.port), responder);
    for (let i = 0; i < 3; i++) expect((await checker.checkNow())[0]).toMatchObject({ ok: true });
    expect(relay.logins()).toBe(1);
  });

  it('fails when the tunnel is registered but the agent does not answer', async () => {
    relay = await startRelay(() => {});
    const { checker } = makeChecker(await connectTunnel(relay.port), new ProbeResponder(), { timeoutMs: 300 });
    const [result] = await checker.checkNow();
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/no answer within 300 ms/) });
  });

  it('fails on an answer carrying another nonce', async () => {
    relay = await startRelay((_line, reply) => reply(encodeProbe(newProbeNonce()).toString().trimEnd()));
    const { checker } = makeChecker(await connectTunnel(relay.port), new ProbeResponder());
    const [result] = await checker.checkNow();
    expect(result).toMatchObject({ ok: false, error: /another nonce/ });
  });

  it('never answers a probe whose nonce it did not send (a stale or foreign probe)', async () => {
    const responder = new ProbeResponder();
    const answers: string[] = [];
    throughResponder(responder)(encodeProbe(newProbeNonce()).toString().trimEnd(), (a) => answers.push(a));
    await new Promise((r) => setTimeout(r, 50));
    expect(answers).toEqual([]);
  });

  it('asks for a reconnect after the configured number of failures in a row, not before', async () => {
    relay = await startRelay(() => {});
    const { checker, unhealthy } = makeChecker(await connectTunnel(relay.port), new ProbeResponder(), {
      timeoutMs: 200,
      failuresBeforeReconnect: 2,
    });
    await checker.checkNow();
    expect(unhealthy).toEqual([]);
    await checker.checkNow();
    expect(unhealthy).toEqual([expect.stringMatching(/no answer/)]);
  });

  it('fails by its timeout when the probe channel never opens (a link that carries nothing), and closes it if it opens late', async () => {
    let late: ((channel: Duplex) => void) | undefined;
    const { checker } = makeChecker(() => new Promise((resolve) => (late = resolve)), new ProbeResponder(), { timeoutMs: 200 });
    const [result] = await checker.checkNow();
    expect(result).toMatchObject({ ok: false, error: 'no answer within 200 ms' });
    const channel = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    late!(channel);
    await new Promise((r) => setImmediate(r));
    expect(channel.destroyed).toBe(true);
  });

  it('fails at once, naming the reason, while the tunnel is not connected', async () => {
    const { checker } = makeChecker(() => Promise.reject(new Error('the tunnel is not connected')), new ProbeResponder());
    const [result] = await checker.checkNow();
    expect(result).toMatchObject({ ok: false, error: 'relay refused the probe: the tunnel is not connected' });
  });

  it('spreads the first check after a connect over a share of the interval, then checks on the interval', async () => {
    const clock = new FakeClock();
    let opened = 0;
    const never = () => {
      opened += 1;
      return new Promise<Duplex>(() => {});
    };
    const { checker } = makeChecker(never, new ProbeResponder(), { clock, random: () => 0.5, timeoutMs: 1_000 });
    checker.tunnelUp();
    const firstAt = Math.floor(0.5 * 60_000 * FIRST_CHECK_SPREAD);
    await clock.advance(firstAt - 1);
    expect(opened).toBe(0);
    await clock.advance(1);
    expect(opened).toBe(1);
    await clock.advance(1_000); // the first check times out
    await new Promise((r) => setImmediate(r)); // and its round ends, which sets the next
    await clock.advance(60_000 - 1);
    expect(opened).toBe(1);
    await clock.advance(1);
    expect(opened).toBe(2);
    checker.stop();
  });
});
