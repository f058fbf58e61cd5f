import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@lifeline/shared/testing';
import { FreezeProxy } from './support/freeze-proxy.js';
import { relayBin, type LogLine } from './support/lifeline-process.js';
import { LifelineSite, users } from './support/lifeline-site.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

/** Time of a log line, in ms since epoch (pino's ISO `time`). */
const at = (line: LogLine) => Date.parse(String(line.time));

async function reachesConsole(site: LifelineSite): Promise<void> {
  const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
  c.write('\r');
  await c.waitForOutput(/rtr-1>\s*$/);
  c.end();
  await c.closed;
}

describe('tunnel health, with a freezable link between agent and relay', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let site: LifelineSite | undefined;
  let proxy: FreezeProxy | undefined;
  afterEach(async () => {
    await site?.stop();
    await proxy?.close();
    await dir?.remove();
    site = proxy = dir = undefined;
  });

  async function start(agentExtra: string, relayExtra = '') {
    dir = await makeTempDir('e2e-health');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }', relayExtra, agent: false });
    const relayPort = site.port;
    proxy = await FreezeProxy.start(() => relayPort);
    await site.startAgent({ relayPort: proxy.port, extra: agentExtra });
    return { site, proxy };
  }

  it('proves the path with its own nonce and shows it in lifeline-relay devices', async () => {
    const { site } = await start('health: { intervalMs: 1000, timeoutMs: 2000 }');
    await site.relay.waitForLog('health check passed', (l) => l.event === 'health.check' && l.ok === true);
    const r = spawnSync(process.execPath, [relayBin, 'devices', '--config', site.relayConfigFile, '--json'], { timeout: 15_000 });
    expect(r.status).toBe(0);
    const devices = JSON.parse(r.stdout.toString()) as Array<Record<string, unknown>>;
    expect(devices.find((d) => d.deviceId === 'rtr-1')).toMatchObject({
      online: true,
      agentVersion: 'lifelineAgent_0.1.0',
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      lastCheck: { ok: true, rttMs: expect.any(Number), at: expect.any(String) },
    });
    expect(devices.find((d) => d.deviceId === 'sw-offline')).toMatchObject({ online: false });
    const table = spawnSync(process.execPath, [relayBin, 'devices', '--config', site.relayConfigFile], {
      timeout: 15_000,
    }).stdout.toString();
    expect(table).toMatch(/rtr-1\s+online\s+\S+\s+sim\s+-\s+\S+ ago\s+\d+ms\s+lifelineAgent_0\.1\.0\s+\S+\s+ok\n/);
  });

  it('notices a frozen link within the keepalive bound on both sides, and recovers when it is released', async () => {
    // keepalive 1 s x 2: a dead path must be noticed within about 3 s (allow 6 s on a busy machine).
    const { site, proxy } = await start(
      'keepalive: { intervalMs: 1000, countMax: 2 }\nreconnect: { baseMs: 100, capMs: 1000, connectTimeoutMs: 3000 }',
      'keepalive: { intervalMs: 1000, countMax: 2 }',
    );
    await reachesConsole(site);
    const frozenAt = Date.now();
    proxy.freeze();
    const agentNoticed = await site.agent!.waitForLog('agent notices', (l) => l.event === 'tunnel.retry' && at(l) >= frozenAt, 15_000);
    const relayNoticed = await site.relay.waitForLog(
      'relay drops the tunnel',
      (l) => l.event === 'tunnel.down' && at(l) >= frozenAt,
      15_000,
    );
    expect(at(agentNoticed) - frozenAt).toBeLessThan(6_000);
    expect(at(relayNoticed) - frozenAt).toBeLessThan(6_000);

    const releasedAt = Date.now();
    proxy.release();
    const back = await site.relay.waitForLog('tunnel up again', (l) => l.event === 'tunnel.up' && at(l) >= releasedAt, 20_000);
    // an attempt stuck on the frozen link gives up after 3 s, then backoff (capped at 1 s) and a fresh connection
    expect(at(back) - releasedAt).toBeLessThan(8_000);
    await waitFor('console stream again', () => site.agent!.logs.filter((l) => l.event === 'console.stream.attached').length >= 2);
    await reachesConsole(site);
  });

  it('tears down a tunnel that SSH thinks is up but that carries nothing, and the new one replaces the stale one', async () => {
    // Keepalives too slow to notice: only the health check can.
    const { site, proxy } = await start(
      'keepalive: { intervalMs: 60000, countMax: 5 }\nhealth: { intervalMs: 1000, timeoutMs: 1000, failuresBeforeReconnect: 2 }',
      'keepalive: { intervalMs: 60000, countMax: 5 }\nhealthCheckTimeoutMs: 1000',
    );
    await site.relay.waitForLog('first check passes', (l) => l.event === 'health.check' && l.ok === true);
    const frozenAt = Date.now();
    proxy.freezeExisting(); // the tunnel goes stale on the relay; new connections (probes, reconnects) still pass
    // The probe rides the tunnel's own connection, so on a link that carries nothing it times out.
    const failed = await site.agent!.waitForLog(
      'probe on the stale tunnel fails',
      (l) => l.event === 'health.check' && l.ok === false && at(l) >= frozenAt,
    );
    expect(String(failed.error)).toMatch(/no answer|closed/);
    await site.agent!.waitForLog('agent restarts the tunnel', (l) => l.event === 'tunnel.retry' && l.code === 'TUNNEL_UNHEALTHY', 15_000);
    const replaced = await site.relay.waitForLog(
      'stale tunnel replaced',
      (l) => l.event === 'tunnel.replaced' && at(l) >= frozenAt,
      15_000,
    );
    expect(at(replaced) - frozenAt).toBeLessThan(12_000);
    await site.relay.waitForLog('checks pass again', (l) => l.event === 'health.check' && l.ok === true && at(l) > at(replaced), 15_000);
    await reachesConsole(site);
  });

  it('checks the relay the tunnel reached: on an alternate relay, with the primary down, checks pass and the tunnel stays', async () => {
    dir = await makeTempDir('e2e-health');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }', agent: false });
    const primary = await freePort(); // nothing listens there: the primary relay is down
    await site.startAgent({
      relayPort: primary,
      alternatePorts: [site.port],
      extra: 'health: { intervalMs: 1000, timeoutMs: 2000, failuresBeforeReconnect: 2 }',
    });
    const relay = site.relay;
    await waitFor(
      'three checks passed on the alternate',
      () => relay.logs.filter((l) => l.event === 'health.check' && l.ok === true).length >= 3,
      15_000,
    );
    const agentLogs = site.agent!.logs;
    expect(agentLogs.filter((l) => l.event === 'health.check' && l.ok === false)).toEqual([]);
    // Checks cost no login: they ride the tunnel's own connection (a login of its own would be
    // a second connection, closed after its check). An agent's login is its tunnel.up line.
    expect(relay.logs.filter((l) => l.event === 'tunnel.up')).toHaveLength(1);
    expect(relay.logs.filter((l) => l.event === 'connection.close')).toEqual([]);
    expect(agentLogs.filter((l) => l.event === 'tunnel.retry' && l.code === 'TUNNEL_UNHEALTHY')).toEqual([]);
    // Connected once (to the alternate, after the primary refused), and never torn down since.
    expect(agentLogs.filter((l) => l.event === 'tunnel.state' && l.to === 'connected')).toHaveLength(1);
    await reachesConsole(site);
  });
});
