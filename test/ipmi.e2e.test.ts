import { spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startIpmiSim, type IpmiSim } from '@lifeline/edge-agent/testing';
import { expectAllByteValuesBothWays } from './support/byte-transparency.js';
import { relayBin } from './support/lifeline-process.js';
import { LifelineSite, users } from './support/lifeline-site.js';
import { openConsole, type ConsoleClient } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

function relayCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [relayBin, ...args], { timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/**
 * ipmi_sim keeps its duplicate-packet check (last sequence number) across SOL activations, so
 * the first packet of a new session may be dropped as a repeat (real BMCs reset it). Send a
 * byte until one gets through, so the assertions that follow test lifeline, not that quirk.
 */
async function warmUp(c: ConsoleClient, sim: IpmiSim): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    c.write('.');
    try {
      await sim.far.readExactly(1, 3_000);
      return;
    } catch {
      // dropped as a duplicate: send another
    }
  }
  throw new Error('no byte got through to the BMC console');
}

describe('IPMI Serial-over-LAN console through relay and agent, against ipmi_sim', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let sim: IpmiSim | undefined;
  let site: LifelineSite | undefined;
  afterEach(async () => {
    await site?.stop();
    await sim?.stop();
    await dir?.remove();
    site = sim = dir = undefined;
  });

  async function start(options: { strace?: boolean; wrongPassword?: boolean } = {}) {
    dir = await makeTempDir('e2e-ipmi');
    sim = await startIpmiSim(dir.path, { strace: options.strace });
    site = await LifelineSite.start(dir.path, { console: '{ type: sim }', agent: false });
    let passwordFile = sim.passwordFile;
    if (options.wrongPassword) {
      passwordFile = join(dir.path, 'wrong-password');
      await writeFile(passwordFile, 'not-the-password\n', { mode: 0o600 });
    }
    await site.startAgent({
      consoles: [`{ device: rtr-1, type: ipmi-sol, host: 127.0.0.1, port: ${sim.port}, user: ${sim.user}, passwordFile: ${passwordFile} }`],
    });
    return { sim, site };
  }

  it('carries the console and all 256 byte values both ways', async () => {
    const { sim, site } = await start();
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password, pty: false });
    await waitFor('person attached', () => site.relay.logs.find((l) => l.event === 'session.start'));
    await warmUp(c, sim);
    c.write('show version\r');
    expect((await sim.far.readExactly(13, 15_000)).toString()).toBe('show version\r');
    await sim.far.write('Cisco IOS XE\r\n');
    await c.waitForOutput('Cisco IOS XE', 15_000);
    await expectAllByteValuesBothWays(c, sim.far);
    c.end();
  });

  it('turns a BREAK from the person into a SOL break on the BMC', async () => {
    const { sim, site } = await start({ strace: true });
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    await waitFor('person attached', () => site.relay.logs.find((l) => l.event === 'session.start'));
    await warmUp(c, sim);
    c.write('b');
    expect((await sim.far.readExactly(1, 15_000)).toString()).toBe('b');
    c.write('\x1db');
    await c.waitForOutput('BREAK sent');
    c.write('x'); // ipmi_sim hands a break to its tty when the next byte arrives
    await waitFor('break on the BMC tty', async () => (await sim.breaks()) > 0, 15_000);
    c.end();
  });

  it('controls power from the escape menu (supervisor) and from the admin CLI', async () => {
    const { sim, site } = await start();
    const sue = await openConsole({ port: site.port, user: 'sue', password: users.sue.password });
    await waitFor('person attached', () => site.relay.logs.find((l) => l.event === 'session.start'));
    sue.write('\x1dps');
    await sue.waitForOutput(/power status: Chassis Power is (on|off)/, 20_000);
    sue.write('\x1dpc');
    await sue.waitForOutput('power cycle rtr-1? this cuts power to the device. y to confirm');
    sue.write('y');
    await sue.waitForOutput(/power cycle: /, 20_000);
    await waitFor('chassis asked to cycle', async () => (await sim.chassisLog()).length > 0, 10_000);
    const audit = await site.relay.waitForLog('power audit', (l) => l.event === 'console.power' && l.action === 'cycle');
    expect(audit).toMatchObject({ user: 'sue', deviceId: 'rtr-1' });
    sue.end();

    const status = relayCli(['power', 'rtr-1', 'status', '--config', site.relayConfigFile]);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^rtr-1: Chassis Power is (on|off)/);
    const refused = relayCli(['power', 'rtr-1', 'reset', '--config', site.relayConfigFile]);
    expect(refused.status).toBe(64);
    expect(refused.stderr).toMatch(/--yes/);
    // Changes from the admin CLI name the operating-system user, and who ran sudo.
    const cycled = relayCli(['power', 'rtr-1', 'cycle', '--yes', '--config', site.relayConfigFile], { SUDO_USER: 'carol' });
    expect(cycled.status).toBe(0);
    const cliAudit = await site.relay.waitForLog(
      'admin CLI power audit',
      (l) => l.event === 'console.power' && l.action === 'cycle' && l.user !== 'sue',
    );
    expect(cliAudit.user).toBe(`os:${userInfo().username} (sudo by carol)`);
  });

  it('reports a BMC that drops SOL and re-activates when it is back', async () => {
    const { sim, site } = await start();
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    await waitFor('person attached', () => site.relay.logs.find((l) => l.event === 'session.start'));
    await sim.stopSim();
    // ipmitool never notices an idle dead session; the agent asks the BMC every 15 s and gives up after 2 unanswered checks.
    await c.waitForOutput(
      /\[lifeline\] .*(lost|disconnected|not answering|stopped answering|unreachable|deactivated|not present)/i,
      75_000,
    );
    await sim.startSim();
    await c.waitForOutput(/is back/, 60_000);
    await warmUp(c, sim);
    c.write('after\r');
    expect((await sim.far.readExactly(6, 15_000)).toString()).toBe('after\r');
    c.end();
  }, 180_000);

  it('tells the person when the BMC refuses the password', async () => {
    const { site } = await start({ wrongPassword: true });
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    await c.waitForOutput(/\[lifeline\] .*(password|credentials|authenticat)/i, 30_000);
    c.end();
  });
});
