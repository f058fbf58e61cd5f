import { afterEach, describe, expect, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';

describe('agent reconnects to the relay', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let site: LifelineSite | undefined;
  afterEach(async () => {
    await site?.stop();
    await dir?.remove();
  });

  it('comes back by itself after the relay is killed and restarted, and people reach the console again', async () => {
    dir = await makeTempDir('e2e-reconnect');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    const port = site.port;
    const killedAt = Date.now();
    await site.relay.stop('SIGKILL');
    // A killed process's sockets are reset by the kernel: the agent knows at once.
    const noticed = await site.agent!.waitForLog('agent retrying', (l) => l.event === 'tunnel.retry');
    expect(Date.parse(String(noticed.time)) - killedAt).toBeLessThan(2_000);

    const attachedBefore = site.agent!.logs.filter((l) => l.event === 'console.stream.attached').length;
    const restartedAt = Date.now();
    await site.startRelay(port);
    const back = await site.agent!.waitForLog(
      'agent re-attached',
      (l) =>
        l.event === 'console.stream.attached' &&
        site!.agent!.logs.filter((x) => x.event === 'console.stream.attached').length > attachedBefore,
    );
    // Backoff is capped at 1 s in the test agent's config; allow for slow machines.
    expect(Date.parse(String(back.time)) - restartedAt).toBeLessThan(5_000);
    expect(site.agent!.exitCode).toBeUndefined();

    const c = await openConsole({ port, user: 'alice', password: users.alice.password });
    c.write('\r');
    await c.waitForOutput('rtr-1>');
    c.end();
  });

  it('after a graceful relay stop, comes back when the relay said, not in a storm', async () => {
    dir = await makeTempDir('e2e-return');
    // A rate of 1 login per second spreads this one agent over a window of at least a second,
    // which opens once the restart should be done (2 s here).
    site = await LifelineSite.start(dir.path, {
      console: '{ type: sim, hostname: rtr-1 }',
      relayExtra: 'agentReturnRate: 1\nagentReturnAfterMs: 2000',
    });
    const port = site.port;
    await site.relay.stop('SIGTERM');
    const told = site.relay.logs.find((l) => l.event === 'relay.return-notice');
    expect(told).toMatchObject({ tunnels: 1, told: 1, afterMs: 2_000, windowMs: 1_000 });
    const notice = await site.agent!.waitForLog('agent told when to return', (l) => l.event === 'tunnel.return-notice');
    const retry = await site.agent!.waitForLog('agent waits as told', (l) => l.event === 'tunnel.retry');
    expect(retry.delayMs).toBe(notice.delayMs);
    expect(notice.delayMs).toBeGreaterThanOrEqual(2_000);
    expect(notice.delayMs).toBeLessThanOrEqual(3_000);
    const attachedBefore = site.agent!.logs.filter((l) => l.event === 'console.stream.attached').length;
    await site.startRelay(port);
    // Back by itself, then a person reaches the console (typing before it is back would be lost).
    await site.agent!.waitForLog(
      'agent re-attached',
      (l) =>
        l.event === 'console.stream.attached' &&
        site!.agent!.logs.filter((x) => x.event === 'console.stream.attached').length > attachedBefore,
    );
    const c = await openConsole({ port, user: 'alice', password: users.alice.password });
    c.write('\r');
    await c.waitForOutput('rtr-1>');
    c.end();
  });

  it('takes a killed agent offline at once and back online when it restarts', async () => {
    dir = await makeTempDir('e2e-agent-kill');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    const killedAt = Date.now();
    await site.agent!.stop('SIGKILL');
    const down = await site.relay.waitForLog('relay takes the device offline', (l) => l.event === 'tunnel.down');
    expect(Date.parse(String(down.time)) - killedAt).toBeLessThan(2_000);
    // Without a terminal (a script) an offline device is refused at once; with one, the person
    // would wait for the agent (offline-wait.e2e.test.ts).
    const offline = await openConsole({ port: site.port, user: 'alice', password: users.alice.password, pty: false });
    expect(await offline.closed).toBe(1);
    expect(offline.output()).toMatch(/rtr-1 is offline/);

    await site.startAgent();
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    c.write('\r');
    await c.waitForOutput(/rtr-1>\s*$/);
    c.end();
  });

  it('lets a reconnecting agent replace its own stale tunnel at once', async () => {
    dir = await makeTempDir('e2e-stale');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    const frozen = site.agent!;
    // SIGSTOP: the old agent's TCP connection stays open on the relay but passes nothing,
    // as when a 4G link dies without FIN or RST.
    frozen.child.kill('SIGSTOP');
    try {
      await site.startAgent();
      await site.relay.waitForLog('tunnel replaced', (l) => l.event === 'tunnel.replaced' && l.deviceId === 'rtr-1');
      const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
      c.write('\r');
      await c.waitForOutput('rtr-1>');
      c.end();
    } finally {
      frozen.child.kill('SIGKILL');
    }
  });
});
