import { afterEach, describe, expect, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

describe('one edge agent serving several consoles', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let site: LifelineSite | undefined;
  afterEach(async () => {
    await site?.stop();
    await dir?.remove();
  });

  it('makes each console its own device on the relay, reachable and health-checked on its own', async () => {
    dir = await makeTempDir('e2e-multi');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim }', agent: false });
    await site.startAgent({
      consoles: ['{ device: rtr-1, type: sim, hostname: rtr-1 }', '{ device: sw-2, type: sim, hostname: sw-2 }'],
      extra: 'health: { intervalMs: 1000, timeoutMs: 2000 }',
    });
    await waitFor('both tunnels up', () => site!.relay.logs.filter((l) => l.event === 'tunnel.up').length >= 2);

    for (const device of ['rtr-1', 'sw-2']) {
      const c = await openConsole({ port: site.port, user: `alice:${device}`, password: users.alice.password });
      c.write('\r');
      await c.waitForOutput(new RegExp(`${device}>\\s*$`));
      c.end();
      await c.closed;
    }
    for (const device of ['rtr-1', 'sw-2']) {
      await site.relay.waitForLog(`health check of ${device}`, (l) => l.event === 'health.check' && l.deviceId === device && l.ok === true);
    }
    // Each session is recorded under its own device.
    const starts = site.relay.logs.filter((l) => l.event === 'session.start');
    expect(starts.map((l) => String(l.recording))).toEqual([
      expect.stringContaining('/recordings/rtr-1/'),
      expect.stringContaining('/recordings/sw-2/'),
    ]);
  });
});
