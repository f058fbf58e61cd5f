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
    await site.relay.stop('SIGKILL');
    await site.agent!.waitForLog('agent retrying', (l) => l.event === 'tunnel.retry');

    const attachedBefore = site.agent!.logs.filter((l) => l.event === 'console.stream.attached').length;
    await site.startRelay(port);
    await site.agent!.waitForLog('agent re-attached', (l) => l.event === 'console.stream.attached' && site!.agent!.logs.filter((x) => x.event === 'console.stream.attached').length > attachedBefore);
    expect(site.agent!.exitCode).toBeUndefined();

    const c = await openConsole({ port, user: 'alice', password: users.alice.password });
    c.write('\r');
    await c.waitForOutput('rtr-1>');
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
