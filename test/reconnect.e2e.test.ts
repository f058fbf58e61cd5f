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

  it('replaces a stale tunnel when a second agent for the same device connects', async () => {
    dir = await makeTempDir('e2e-stale');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    const first = site.agent!;
    // A second agent process with the same key and device: the relay must take the newer one at once.
    await site.startAgent();
    await site.relay.waitForLog('tunnel replaced', (l) => l.event === 'tunnel.replaced' && l.deviceId === 'rtr-1');
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    c.write('\r');
    await c.waitForOutput('rtr-1>');
    c.end();
    await first.stop();
  });
});
