import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { PreauthLimiter } from './preauth-limiter.js';

const limits = { loginGraceMs: 120_000, maxUnauthenticatedPerAddress: 2, maxUnauthenticated: 3, handshakesInFlight: 3 };

function setup(overrides: Partial<typeof limits> = {}) {
  const clock = new FakeClock(1_000_000);
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ svc: 'test', version: '0', level: 'debug', destination });
  const limiter = new PreauthLimiter({ ...limits, ...overrides }, { clock, logger, logIntervalMs: 10_000 });
  const expired: string[] = [];
  const admit = (address: string, name = address) => limiter.admit(address, () => expired.push(name));
  return { clock, lines, limiter, admit, expired, limitLines: () => lines.filter((l) => l.event === 'ssh.preauth-limit') };
}

describe('PreauthLimiter', () => {
  it('sheds new connections while too many key exchanges are in flight, and logs the streak at its start and its end', async () => {
    const env = setup({ handshakesInFlight: 2, maxUnauthenticatedPerAddress: 10, maxUnauthenticated: 10 });
    const shedLines = () => env.lines.filter((l) => String(l.event).startsWith('ssh.shedding'));
    const a = env.admit('10.0.0.1')!;
    const b = env.admit('10.0.0.2')!;
    expect(env.limiter.handshaking).toBe(2);
    for (let i = 0; i < 5; i++) expect(env.admit(`10.0.1.${i}`)).toBeUndefined();
    expect(shedLines()).toEqual([expect.objectContaining({ event: 'ssh.shedding', handshakesInFlight: 2, limit: 2 })]);
    // A finished key exchange frees its place, though the connection has not logged in yet.
    a.keysExchanged();
    a.keysExchanged();
    expect(env.limiter.handshaking).toBe(1);
    expect(env.limiter.unauthenticated).toBe(2);
    // Admitted while refusals go on (within logIntervalMs): the same streak, no more lines.
    await env.clock.advance(1_500);
    const c = env.admit('10.0.0.3')!;
    expect(c).toBeDefined();
    expect(env.admit('10.0.1.9')).toBeUndefined();
    expect(shedLines()).toHaveLength(1);
    // Ten quiet seconds later the next admission ends it, with the count and how long it lasted.
    b.keysExchanged();
    c.keysExchanged();
    await env.clock.advance(10_000);
    expect(env.admit('10.0.0.4')).toBeDefined();
    expect(shedLines().map((l) => [l.event, l.refused, l.ms])).toEqual([
      ['ssh.shedding', undefined, undefined],
      ['ssh.shedding-ended', 6, 1_500],
    ]);
  });

  it('frees the handshake place of a connection that closes or runs out of grace before its key exchange', async () => {
    const env = setup({ handshakesInFlight: 1, loginGraceMs: 1_000 });
    env.admit('10.0.0.1')!.release();
    expect(env.limiter.handshaking).toBe(0);
    env.admit('10.0.0.2');
    await env.clock.advance(1_000);
    expect(env.expired).toEqual(['10.0.0.2']);
    expect(env.limiter.handshaking).toBe(0);
    expect(env.admit('10.0.0.3')).toBeDefined();
  });

  it('refuses the connection past the per-address cap while other addresses still get in', () => {
    const env = setup();
    expect(env.admit('10.0.0.1')).toBeDefined();
    expect(env.admit('10.0.0.1')).toBeDefined();
    expect(env.admit('10.0.0.1')).toBeUndefined();
    expect(env.admit('10.0.0.2')).toBeDefined();
    expect(env.limiter.unauthenticated).toBe(3);
  });

  it('refuses everyone once the total cap is reached', () => {
    const env = setup();
    env.admit('10.0.0.1');
    env.admit('10.0.0.2');
    env.admit('10.0.0.3');
    expect(env.admit('10.0.0.4')).toBeUndefined();
    expect(env.limitLines()).toMatchObject([{ reason: 'total', limit: 3, peer: '10.0.0.4', refused: 1, unauthenticated: 3 }]);
  });

  it('frees the place of a connection that logged in or closed', () => {
    const env = setup();
    const a = env.admit('10.0.0.1')!;
    const b = env.admit('10.0.0.1')!;
    a.authenticated();
    a.authenticated();
    b.release();
    expect(env.limiter.unauthenticated).toBe(0);
    expect(env.admit('10.0.0.1')).toBeDefined();
    expect(env.admit('10.0.0.1')).toBeDefined();
  });

  it('expires a connection that has not logged in within the grace time, counting from accept', async () => {
    const env = setup();
    env.admit('10.0.0.1', 'slow');
    await env.clock.advance(60_000);
    const quick = env.admit('10.0.0.1', 'quick')!;
    await env.clock.advance(59_999);
    expect(env.expired).toEqual([]);
    await env.clock.advance(1);
    expect(env.expired).toEqual(['slow']);
    expect(env.lines.some((l) => l.event === 'ssh.login-grace-expired' && l.peer === '10.0.0.1')).toBe(true);
    expect(env.limiter.unauthenticated).toBe(1);
    quick.authenticated();
    await env.clock.advance(600_000);
    expect(env.expired).toEqual(['slow']);
  });

  it('logs refusals at most once per interval and counts the ones it left out', async () => {
    const env = setup({ maxUnauthenticatedPerAddress: 1 });
    env.admit('10.0.0.1');
    for (let i = 0; i < 50; i++) env.admit('10.0.0.1');
    expect(env.limitLines()).toHaveLength(1);
    expect(env.limitLines()[0]).toMatchObject({ reason: 'per-address', refused: 1 });
    await env.clock.advance(10_000);
    expect(env.limitLines()).toHaveLength(2);
    expect(env.limitLines()[1]).toMatchObject({ refused: 49 });
    await env.clock.advance(60_000);
    expect(env.limitLines()).toHaveLength(2);
  });
});
