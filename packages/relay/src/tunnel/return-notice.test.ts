import { PassThrough, type Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RETURN_ORIGIN, decodeReturnNotice, readLine, silentLogger, systemClock } from '@lifeline/shared';
import type { AgentTunnel } from './agent-tunnel.js';
import { announceReturn } from './return-notice.js';

/** A tunnel whose streams the test reads: what the agent would receive. */
function tunnel(deviceId: string, behaviour: 'answers' | 'refuses' | 'hangs' = 'answers') {
  const received: Array<{ origin: string; line: Promise<string | undefined> }> = [];
  const t: AgentTunnel = {
    deviceId,
    peer: '192.0.2.1:5000',
    agentFingerprint: 'SHA256:x',
    tunnelPort: 10_000,
    since: 0,
    agentVersion: 'lifelineAgent_test',
    openStream: (origin) => {
      if (behaviour === 'refuses') return Promise.reject(new Error('refused'));
      if (behaviour === 'hangs') return new Promise<Duplex>(() => {});
      const stream = new PassThrough();
      received.push({ origin: origin.address, line: readLine(stream, 64) });
      return Promise.resolve(stream);
    },
    close: () => {},
    drop: () => {},
    onClosed: () => {},
  };
  return { tunnel: t, received };
}

describe('announceReturn', () => {
  it('tells each agent a delay within a window sized so the agents come back at the given rate', async () => {
    const agents = Array.from({ length: 400 }, (_, i) => tunnel(`dev-${i}`));
    let n = 0;
    const result = await announceReturn(
      agents.map((a) => a.tunnel),
      { loginsPerSecond: 100, afterMs: 10_000, timeoutMs: 2_000, clock: systemClock, logger: silentLogger(), random: () => (n++ % 4) / 4 },
    );
    expect(result).toEqual({ windowMs: 4_000, told: 400 });
    const delays = await Promise.all(agents.map(async (a) => decodeReturnNotice((await a.received[0]!.line)!)));
    expect(agents.every((a) => a.received.length === 1 && a.received[0]!.origin === RETURN_ORIGIN)).toBe(true);
    // The window opens once the restart should be done: nobody is told to come back before.
    expect(new Set(delays)).toEqual(new Set([10_000, 11_000, 12_000, 13_000]));
  });

  it('gives a small fleet a window of at least a second', async () => {
    const one = tunnel('rtr-1');
    const result = await announceReturn([one.tunnel], {
      loginsPerSecond: 200,
      afterMs: 0,
      timeoutMs: 2_000,
      clock: systemClock,
      logger: silentLogger(),
    });
    expect(result.windowMs).toBe(1_000);
    expect(decodeReturnNotice((await one.received[0]!.line)!)).toBeLessThanOrEqual(1_000);
  });

  it('never holds the stop longer than its timeout, and counts only the agents it reached', async () => {
    const started = Date.now();
    const result = await announceReturn([tunnel('a').tunnel, tunnel('b', 'refuses').tunnel, tunnel('c', 'hangs').tunnel], {
      loginsPerSecond: 200,
      afterMs: 10_000,
      timeoutMs: 300,
      clock: systemClock,
      logger: silentLogger(),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.told).toBe(1);
  });
});
