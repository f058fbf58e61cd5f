import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@lifeline/shared/testing';
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
import { HealthChecker, type HealthResult } from './health-checker.js';
import { RelayDialer, type RelayAddress } from './relay-dialer.js';
import { ProbeResponder } from './probe-responder.js';

const hostPair = generateParsableEd25519('relay');
const agentPair = generateParsableEd25519('agent');
const hostFingerprint = fingerprintOfBlob((ssh2.utils.parseKey(hostPair.public) as ssh2.ParsedKey).getPublicSSH());

/**
 * A relay stand-in: it accepts the agent's probe channel and hands the probe line to `route`,
 * which plays the tunnel (answer it through a responder, drop it, change it).
 */
async function startRelay(route: (line: string, reply: (line: string) => void) => void): Promise<{ port: number; close(): Promise<void> }> {
  const server = new ssh2.Server({ hostKeys: [hostPair.private] }, (conn) => {
    conn.on('authentication', (ctx) =>
      ctx.method === 'publickey' && ctx.username === AGENT_LOGIN_NAME ? ctx.accept() : ctx.reject(['publickey']),
    );
    conn.on('tcpip', (accept, _reject, info) => {
      expect(info.srcIP).toBe(PROBE_ORIGIN);
      const channel = accept();
      void readProbeLine(channel).then((line) => line !== undefined && route(line, (answer) => channel.write(`${answer}\n`)));
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
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
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

function dialerFor(relay: { host: string; port: number; alternates?: RelayAddress[] }, hostKey = hostFingerprint): RelayDialer {
  return new RelayDialer({
    relay: { alternates: [], ...relay, hostKey },
    privateKey: Buffer.from(agentPair.private),
    connectTimeoutMs: 2_000,
    keepalive: { intervalMs: 10_000, countMax: 2 },
    logger: silentLogger(),
  });
}

function makeChecker(
  port: number,
  responder: ProbeResponder,
  extra: { failuresBeforeReconnect?: number; timeoutMs?: number; dialer?: RelayDialer; endpoint?: () => RelayAddress | undefined } = {},
) {
  const results: HealthResult[] = [];
  const unhealthy: string[] = [];
  const checker = new HealthChecker({
    dialer: extra.dialer ?? dialerFor({ host: '127.0.0.1', port }),
    endpoint: extra.endpoint ?? (() => ({ host: '127.0.0.1', port })),
    deviceIds: ['rtr-1'],
    intervalMs: 60_000,
    timeoutMs: extra.timeoutMs ?? 2_000,
    failuresBeforeReconnect: extra.failuresBeforeReconnect ?? 2,
    responder,
    logger: silentLogger(),
    onResult: (r) => results.push(r),
    onUnhealthy: (reason) => unhealthy.push(reason),
  });
  return { checker, results, unhealthy };
}

describe('HealthChecker', () => {
  it('passes when its own nonce comes back through the tunnel, and keeps the round-trip time', async () => {
    const responder = new ProbeResponder();
    relay = await startRelay(throughResponder(responder));
    const { checker, results } = makeChecker(relay.port, responder);
    const [result] = await checker.checkNow();
    expect(result).toMatchObject({ deviceId: 'rtr-1', ok: true, rttMs: expect.any(Number) });
    expect(results).toHaveLength(1);
  });

  it('fails when the tunnel is registered but the agent does not answer', async () => {
    relay = await startRelay(() => {});
    const { checker } = makeChecker(relay.port, new ProbeResponder(), { timeoutMs: 300 });
    const [result] = await checker.checkNow();
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/no answer within 300 ms/) });
  });

  it('fails on an answer carrying another nonce', async () => {
    relay = await startRelay((_line, reply) => reply(encodeProbe(newProbeNonce()).toString().trimEnd()));
    const { checker } = makeChecker(relay.port, new ProbeResponder());
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
    const { checker, unhealthy } = makeChecker(relay.port, new ProbeResponder(), { timeoutMs: 200, failuresBeforeReconnect: 2 });
    await checker.checkNow();
    expect(unhealthy).toEqual([]);
    await checker.checkNow();
    expect(unhealthy).toEqual([expect.stringMatching(/no answer/)]);
  });

  it('fails, without hanging, when the relay presents another host key', async () => {
    const responder = new ProbeResponder();
    relay = await startRelay(throughResponder(responder));
    const port = relay.port;
    const checker = new HealthChecker({
      dialer: dialerFor({ host: '127.0.0.1', port }, `SHA256:${'C'.repeat(43)}`),
      endpoint: () => ({ host: '127.0.0.1', port }),
      deviceIds: ['rtr-1'],
      intervalMs: 60_000,
      timeoutMs: 2_000,
      failuresBeforeReconnect: 2,
      responder,
      logger: silentLogger(),
      onResult: () => {},
      onUnhealthy: () => {},
    });
    const [result] = await checker.checkNow();
    expect(result?.ok).toBe(false);
  });

  it('checks on the relay the tunnel is connected to, an alternate while the primary is down', async () => {
    const responder = new ProbeResponder();
    relay = await startRelay(throughResponder(responder));
    const primary = await freePort(); // nothing listens there: the primary relay is down
    const alternate = { host: '127.0.0.1', port: relay.port };
    const { checker, unhealthy } = makeChecker(primary, responder, {
      dialer: dialerFor({ host: '127.0.0.1', port: primary, alternates: [alternate] }),
      endpoint: () => alternate,
    });
    for (let i = 0; i < 3; i++) expect((await checker.checkNow())[0]).toMatchObject({ ok: true });
    expect(unhealthy).toEqual([]);
  });

  it('fails without dialling while the tunnel is not connected', async () => {
    const { checker } = makeChecker(await freePort(), new ProbeResponder(), { endpoint: () => undefined });
    const [result] = await checker.checkNow();
    expect(result).toMatchObject({ ok: false, error: 'the tunnel is not connected' });
  });
});
