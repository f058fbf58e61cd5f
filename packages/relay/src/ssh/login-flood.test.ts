import { afterEach, describe, expect, it } from 'vitest';
import type ssh2 from 'ssh2';
import { verifyPassword, type ParsedPasswordHash } from './password-hash.js';
import { ALICE_PASSWORD, connectClient, startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

// Real sockets on loopback; "another address" is 127.0.0.2 (loopback answers the whole 127/8).
const relays: TestRelay[] = [];
const clients: ssh2.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.end();
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

/** verifyPassword (the real scrypt, default parameters for alice) counting calls and overlap. */
function countingHasher() {
  const stats = { calls: 0, running: 0, peak: 0 };
  const verify = async (password: string, stored: ParsedPasswordHash) => {
    stats.calls++;
    stats.peak = Math.max(stats.peak, ++stats.running);
    try {
      return await verifyPassword(password, stored);
    } finally {
      stats.running--;
    }
  };
  return { stats, verify };
}

describe('a flood of wrong passwords from one address', () => {
  it('gets at most maxFailuresPerWindow hashes, and a login from another address stays fast', async () => {
    const hasher = countingHasher();
    const relay = await startTestRelay({
      auth: { maxFailuresPerWindow: 5, failureDelayMs: 1_000, windowMs: 60_000 },
      // Let all 50 reach authentication: this test is about hashing, not connection caps.
      limits: { maxUnauthenticatedPerAddress: 100 },
      server: { verifyPassword: hasher.verify },
    });
    relays.push(relay);
    const quiet = Date.now();
    clients.push(await connectClient(relay, { username: 'alice', password: ALICE_PASSWORD, localAddress: '127.0.0.2' }));
    const quietMs = Date.now() - quiet;
    hasher.stats.calls = 0;

    const flood = Array.from({ length: 50 }, (_, i) =>
      connectClient(relay, { username: 'alice', password: `wrong-${i}`, localAddress: '127.0.0.1', readyTimeout: 60_000 }).then(
        (c) => (c.end(), 'logged in'),
        () => 'refused',
      ),
    );
    // Log in from elsewhere while the flood is being checked.
    await relay.waitForLog('auth.failure', { reason: 'wrong-password' }, 30_000);
    const started = Date.now();
    const legit = await connectClient(relay, {
      username: 'alice',
      password: ALICE_PASSWORD,
      localAddress: '127.0.0.2',
      readyTimeout: 60_000,
    });
    const legitMs = Date.now() - started;
    clients.push(legit);
    const results = await Promise.all(flood);

    console.log(
      `flood: ${hasher.stats.calls} hashes for 50 wrong passwords + 1 right one, at most ${hasher.stats.peak} at once; login from 127.0.0.2 took ${legitMs} ms (${quietMs} ms without the flood)`,
    );
    expect(results.every((r) => r === 'refused')).toBe(true);
    expect(hasher.stats.calls).toBeLessThanOrEqual(5 + 1);
    expect(hasher.stats.peak).toBeLessThanOrEqual(2);
    // Before the fix: about 9.4 s on the 2-core test machine (50 hashes queued in front of it).
    expect(legitMs).toBeLessThan(4_000);
    expect(relay.logs.filter((l) => l.event === 'auth.failure' && l.reason === 'wrong-password')).toHaveLength(5);
    expect(relay.logs.filter((l) => l.event === 'auth.failure' && l.reason === 'address-throttled')).toHaveLength(45);
  }, 60_000);
});

describe('agents and people behind one address', () => {
  it('lets an agent log in with its key from an address people have locked out', async () => {
    const relay = await startTestRelay({ auth: { maxFailuresPerWindow: 2, failureDelayMs: 0, windowMs: 60_000 } });
    relays.push(relay);
    for (const password of ['bad-1', 'bad-2']) {
      await expect(connectClient(relay, { username: 'alice', password, localAddress: '127.0.0.1' })).rejects.toThrow();
    }
    await relay.waitForLog('auth.throttled');
    await expect(connectClient(relay, { username: 'alice', password: ALICE_PASSWORD, localAddress: '127.0.0.1' })).rejects.toThrow();

    const agent = await connectClient(relay, {
      username: 'lifeline-agent',
      privateKey: relay.keys.agentA.privateKey,
      localAddress: '127.0.0.1',
    });
    clients.push(agent);
    const success = await relay.waitForLog('auth.success', { user: 'lifeline-agent' });
    expect(success.peer).toMatch(/^127\.0\.0\.1:/);
    // People from that address are still refused.
    await expect(connectClient(relay, { username: 'alice', password: ALICE_PASSWORD, localAddress: '127.0.0.1' })).rejects.toThrow();
  });
});
