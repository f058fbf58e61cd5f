import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayBin } from './support/lifeline-process.js';
import { LifelineSite } from './support/lifeline-site.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

describe('lifeline-relay devices: console state next to tunnel health (relay and agent processes)', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let site: LifelineSite;
  let missingPort: string;

  beforeAll(async () => {
    dir = await makeTempDir('e2e-devices');
    missingPort = `${dir.path}/ttyUSB-unplugged`;
    site = await LifelineSite.start(dir.path, { console: '{ type: sim }', agent: false });
    // rtr-1: a USB adapter that is not plugged in; sw-2 (same agent): the simulated router.
    await site.startAgent({
      consoles: [`{ device: rtr-1, type: serial, path: ${missingPort}, baudRate: 9600 }`, '{ device: sw-2, type: sim, hostname: sw-2 }'],
    });
    await site.agent!.waitForLog('console down', (l) => l.event === 'console.state' && l.to === 'down');
  });
  afterAll(async () => {
    await site?.stop();
    await dir?.remove();
  });

  const devices = () => spawnSync(process.execPath, [relayBin, 'devices', '--config', site.relayConfigFile], { timeout: 15_000 });

  it('--json: a Pi whose USB adapter is unplugged is online but not ok, with kind and line settings', async () => {
    const list = await waitFor('rtr-1 console-down in devices --json', () => {
      const r = spawnSync(process.execPath, [relayBin, 'devices', '--config', site.relayConfigFile, '--json'], { timeout: 15_000 });
      const parsed = JSON.parse(r.stdout.toString()) as Array<Record<string, unknown>>;
      return parsed.find((d) => d.deviceId === 'rtr-1')?.health === 'console-down' ? parsed : undefined;
    });
    expect(list.find((d) => d.deviceId === 'rtr-1')).toMatchObject({
      online: true,
      health: 'console-down',
      healthDetail: expect.stringContaining(`serial port ${missingPort} is not present`),
      console: { state: 'down', kind: 'serial', line: '9600 8N1', power: false },
    });
    expect(list.find((d) => d.deviceId === 'sw-2')).toMatchObject({
      online: true,
      health: 'ok',
      console: { state: 'up', kind: 'sim', power: false },
    });
    expect(list.find((d) => d.deviceId === 'sw-offline')).toMatchObject({ online: false, health: 'offline' });
    expect(list.find((d) => d.deviceId === 'sw-offline')?.console).toBeUndefined();
  });

  it('table: HEALTH says why, CONSOLE and LINE show kind and settings, "-" where unknown', () => {
    const r = devices();
    expect(r.status).toBe(0);
    const table = r.stdout.toString();
    expect(table).toMatch(
      new RegExp(`rtr-1\\s+online\\s+\\S+\\s+serial\\s+9600 8N1\\s.*console down: serial port ${missingPort} is not present`),
    );
    expect(table).toMatch(/sw-2\s+online\s+\S+\s+sim\s+-\s.*\sok\n/);
    expect(table).toMatch(/sw-offline\s+offline\s+\S+\s+-\s+-\s.*\soffline\n/);
  });
});
