import { afterEach, describe, expect, it } from 'vitest';
import { LifelineSite } from './support/lifeline-site.js';
import { makeTempDir } from './support/temp-dir.js';

describe("an edge agent's login in the relay's log", () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let site: LifelineSite | undefined;
  afterEach(async () => {
    await site?.stop();
    await dir?.remove();
  });

  it('is one line at info level, tunnel.up, naming the device, the address, the key and the agent version', async () => {
    dir = await makeTempDir('e2e-agent-login-log');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    const up = await site.relay.waitForLog('tunnel up', (l) => l.event === 'tunnel.up');
    expect(up).toMatchObject({
      deviceId: 'rtr-1',
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      fingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
      client: expect.stringMatching(/\S/),
    });
    // Let anything else the login would log arrive.
    await new Promise((r) => setTimeout(r, 500));
    const fromAgent = site.relay.logs.filter((l) => l.peer === up.peer && (l.level ?? 0) >= 30 && l.event !== 'health.check');
    expect(fromAgent.map((l) => l.event)).toEqual(['tunnel.up']);
  });
});
