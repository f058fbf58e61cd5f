import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { tryLogin } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';

// The relay and the agent as real processes on 127.0.0.1 (issue 9: authentication and pre-authentication).
describe('relay before login', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let site: LifelineSite | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await site?.stop();
    await dir?.remove();
  });

  it("brings an agent's device online from an address that people's failed logins have locked out", async () => {
    dir = await makeTempDir('e2e-nat-lockout');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    await site.agent!.stop();
    await site.relay.waitForLog('device offline', (l) => l.event === 'tunnel.down');
    // A stranger behind the same address (carrier or office NAT) uses up its 10 failures.
    for (let i = 0; i < 10; i++) expect(await tryLogin({ port: site.port, user: 'alice', password: `guess-${i}` })).not.toBe('ok');
    await site.relay.waitForLog('address throttled', (l) => l.event === 'auth.throttled');
    expect(await tryLogin({ port: site.port, user: 'alice', password: users.alice.password })).not.toBe('ok');

    const upsBefore = site.relay.logs.filter((l) => l.event === 'tunnel.up').length;
    await site.startAgent();
    await site.relay.waitForLog(
      'device online again',
      (l) => l.event === 'tunnel.up' && site!.relay.logs.filter((x) => x.event === 'tunnel.up').length > upsBefore,
    );
  });

  it('closes connections that do not log in within limits.loginGraceMs and refuses those past the per-address cap', async () => {
    dir = await makeTempDir('e2e-preauth');
    site = await LifelineSite.start(dir.path, {
      console: '{ type: sim }',
      agent: false,
      relayExtra: 'limits: { loginGraceMs: 1000, maxUnauthenticatedPerAddress: 2 }',
    });
    const open = (): Promise<{ closedAfterMs: number; greeted: boolean }> =>
      new Promise((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: site!.port });
        sockets.push(socket);
        const started = Date.now();
        let greeted = false;
        socket.on('data', () => (greeted = true));
        socket.on('error', () => undefined);
        socket.once('close', () => resolve({ closedAfterMs: Date.now() - started, greeted }));
      });
    const first = open();
    const second = open();
    // Let the relay accept both before the third arrives.
    await new Promise((r) => setTimeout(r, 300));
    const third = await open();
    expect(third.greeted).toBe(false);
    expect(third.closedAfterMs).toBeLessThan(900);
    await site.relay.waitForLog('preauth limit', (l) => l.event === 'ssh.preauth-limit' && l.reason === 'per-address');
    for (const held of await Promise.all([first, second])) {
      expect(held.greeted).toBe(true);
      expect(held.closedAfterMs).toBeGreaterThanOrEqual(900);
      expect(held.closedAfterMs).toBeLessThan(5_000);
    }
    await site.relay.waitForLog('grace expired', (l) => l.event === 'ssh.login-grace-expired');
    // And a person who does log in is not cut off by the grace time.
    expect(await tryLogin({ port: site.port, user: 'alice', password: users.alice.password })).toBe('ok');
  });
});
