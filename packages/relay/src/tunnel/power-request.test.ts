import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { POWER_ORIGIN, decodePowerRequest, encodePowerAnswer, isLifelineError, systemClock, type PowerAnswer } from '@lifeline/shared';
import type { AgentTunnel } from './agent-tunnel.js';
import { requestPower } from './power-request.js';

/** A tunnel whose agent answers each power request line with `answer(action)`, or never. */
function tunnelAnswering(answer: ((action: string) => PowerAnswer) | 'silent', origins: string[] = []): AgentTunnel {
  return {
    deviceId: 'srv-1',
    peer: 'p',
    agentFingerprint: 'f',
    tunnelPort: 1,
    since: 0,
    agentVersion: 'v',
    close: () => {},
    drop: () => {},
    onClosed: () => {},
    openStream: async (origin) => {
      origins.push(origin.address);
      let line = '';
      const stream: Duplex = new Duplex({
        read() {},
        write(chunk: Buffer, _e, cb) {
          line += chunk.toString();
          if (line.endsWith('\n') && answer !== 'silent') stream.push(encodePowerAnswer(answer(decodePowerRequest(line.trim()) ?? '?')));
          cb();
        },
      });
      return stream;
    },
  };
}

describe('requestPower', () => {
  it('sends the action on a stream of its own and returns the BMC answer', async () => {
    const origins: string[] = [];
    const text = await requestPower(
      tunnelAnswering((a) => ({ ok: true, text: `did ${a}` }), origins),
      'cycle',
      1_000,
      systemClock,
    );
    expect(text).toBe('did cycle');
    expect(origins).toEqual([POWER_ORIGIN]);
  });

  it("hands back the agent's text with control characters escaped", async () => {
    expect(
      await requestPower(
        tunnelAnswering(() => ({ ok: true, text: 'on\x1b[2J' })),
        'status',
        1_000,
        systemClock,
      ),
    ).toBe('on\\x1b[2J');
    const err = await requestPower(
      tunnelAnswering(() => ({ ok: false, error: 'bad\x07' })),
      'status',
      1_000,
      systemClock,
    ).catch((e: Error) => e);
    expect((err as Error).message).toBe('bad\\x07');
  });

  it('tells a console without power control from a failed command', async () => {
    const unsupported = await requestPower(
      tunnelAnswering(() => ({ ok: false, error: 'unsupported: serial consoles have no power control' })),
      'status',
      1_000,
      systemClock,
    ).catch((e: unknown) => e);
    expect(isLifelineError(unsupported, 'POWER_UNSUPPORTED')).toBe(true);
    expect((unsupported as Error).message).toBe('serial consoles have no power control');
    const failed = await requestPower(
      tunnelAnswering(() => ({ ok: false, error: 'BMC unreachable' })),
      'on',
      1_000,
      systemClock,
    ).catch((e: unknown) => e);
    expect(isLifelineError(failed, 'POWER_FAILED')).toBe(true);
  });

  it('gives up on an agent that does not answer', async () => {
    const err = await requestPower(tunnelAnswering('silent'), 'status', 100, systemClock).catch((e: unknown) => e);
    expect(isLifelineError(err, 'POWER_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/no answer/);
  });
});
