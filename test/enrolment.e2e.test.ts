import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialFarEnd, startSocatPtyPair, type SocatPtyPair } from '@lifeline/edge-agent/testing';
import { hashPassword } from '../packages/relay/src/ssh/password-hash.js';
import { expectAllByteValuesBothWays } from './support/byte-transparency.js';
import { LifelineProcess, agentBin } from './support/lifeline-process.js';
import { LifelineSite, cheapScrypt } from './support/lifeline-site.js';
import { openSshConsole } from './support/openssh-console.js';
import { requireProgram } from './support/programs.js';
import { relayCli } from './support/relay-cli.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

/** A person who reaches every enrolled Pi by glob: nothing about the Pis is in relay.yaml. */
const erin = { name: 'erin', password: 'erin-secret' };

/**
 * Zero-touch enrolment with real processes: a running relay (never restarted), `lifeline-relay
 * enrol`, and a fresh agent (on the agent's Node.js) with only the enrolment file and a serial
 * console (a socat pty pair, the device at its far end). A person reaches that console with the
 * real OpenSSH client; no key is copied by hand and relay.yaml is not touched.
 */
describe('zero-touch enrolment with real processes', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let site: LifelineSite | undefined;
  let pty: SocatPtyPair | undefined;
  let device: SerialFarEnd | undefined;
  const procs: LifelineProcess[] = [];

  beforeEach(async () => {
    requireProgram('ssh');
    requireProgram('socat');
    dir = await makeTempDir('e2e-enrolment');
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop();
    await site?.stop();
    await device?.close();
    await pty?.stop();
    await dir.remove();
    site = device = pty = undefined;
  });

  /** A relay whose only person for the Pis is erin (`pi-*`), and a serial device on a pty. */
  async function startSite(relayExtra = '') {
    pty = await startSocatPtyPair(dir.path, { names: ['ttyUSB0', 'device'] });
    device = await SerialFarEnd.open(pty.b);
    const hash = await hashPassword(erin.password, cheapScrypt);
    site = await LifelineSite.start(dir.path, {
      console: '{ type: sim }',
      agent: false,
      relayExtra,
      extraUsers: [`{ name: ${erin.name}, password: "${hash}", devices: ["pi-*"] }`],
    });
    return { site, pty, device, relayYaml: await readFile(site.relayConfigFile, 'utf8') };
  }

  const socket = () => ['--socket', join(dir.path, 'relay.sock')];

  /** `lifeline-relay enrol DEVICE`: the token it printed and the enrolment file (0600) it wrote. */
  async function enrol(id: string, consolePath: string) {
    const file = join(dir.path, `${id}-enrol.yaml`);
    const made = await relayCli(['enrol', id, ...socket(), '--relay', `127.0.0.1:${site!.port}`, '--console', consolePath, '--out', file]);
    expect(made).toMatchObject({ code: 0, stderr: '' });
    const token = /^[0-9a-f]{32}$/m.exec(made.stdout)?.[0];
    expect(token).toBeDefined();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    return { file, token: token! };
  }

  /** A fresh Pi: an empty folder, the agent with `--enrol FILE` and no agent.yaml. */
  async function freshAgent(name: string, enrolFile: string) {
    await mkdir(join(dir.path, name));
    const agent = LifelineProcess.start(agentBin, ['run', '--config', join(dir.path, name, 'agent.yaml'), '--enrol', enrolFile]);
    procs.push(agent);
    return agent;
  }

  /** erin with OpenSSH (`ssh -e none -tt -l erin:DEVICE`): keystrokes to the serial device, its answer back, all 256 byte values. */
  async function reachConsole(id: string, far: SerialFarEnd) {
    const c = await openSshConsole({
      dir: dir.path,
      port: site!.port,
      login: '127.0.0.1',
      password: erin.password,
      args: ['-e', 'none', '-tt', '-l', `${erin.name}:${id}`],
    });
    await waitFor('relay attached erin', () =>
      site!.relay.logs.find((l) => l.event === 'session.attached' && l.user === erin.name && l.deviceId === id),
    );
    c.write('show clock\r');
    expect((await far.readExactly(11, 10_000)).toString()).toBe('show clock\r');
    await far.write(`*12:00:00.000 UTC Fri Dec 4 2026\r\n${id}#`);
    await c.waitForOutput(`${id}#`);
    // And every byte value, both ways, unchanged (as the serial console e2e checks for a declared device).
    await expectAllByteValuesBothWays(c, far);
    c.end();
    expect(await c.closed).toBe(0);
  }

  const devicesJson = async () => {
    const r = await relayCli(['devices', ...socket(), '--json']);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  };

  it('a fresh agent with only an enrolment file and a serial console comes online, a person reaches the console with OpenSSH; the same token is refused a second time; revoke shows in devices', async () => {
    const { site, pty, device, relayYaml } = await startSite();
    const { file, token } = await enrol('pi-01', pty.a);

    const agent = await freshAgent('pi1', file);
    await agent.waitForLog('enrolled', (l) => l.event === 'enrol.done');
    await agent.waitForLog('console stream attached', (l) => l.event === 'console.stream.attached');
    const agentYaml = await readFile(join(dir.path, 'pi1', 'agent.yaml'), 'utf8');
    expect(agentYaml).toContain('device: pi-01');
    expect(agentYaml).toContain(pty.a);
    expect(agentYaml).not.toContain(token);
    expect((await stat(join(dir.path, 'pi1', 'agent.yaml'))).mode & 0o777).toBe(0o600);

    await reachConsole('pi-01', device);
    expect((await devicesJson()).find((d) => d.deviceId === 'pi-01')).toMatchObject({ online: true, enrolment: 'approved' });

    const second = await freshAgent('pi2', file);
    const refused = await second.waitForLog('refused', (l) => l.event === 'enrol.refused');
    expect(refused.reason).toBe('used');
    // The refusal stays on the LED until the agent is stopped; then 78: the operator must make a
    // new enrolment file, and systemd does not restart the agent in a loop.
    await second.waitForLog('holding the refusal', (l) => l.event === 'enrol.holding');
    await second.stop();
    expect(second.exitCode).toBe(78);

    // Revoked: the tunnel closes at once and devices says why the Pi is not online.
    expect(await relayCli(['revoke', 'pi-01', ...socket()])).toMatchObject({ code: 0, stdout: 'pi-01: agent revoked\n' });
    await site.relay.waitForLog(
      'tunnel down',
      (l) => (l.event === 'tunnel.down' || l.event === 'tunnel.dropped') && l.deviceId === 'pi-01',
    );
    expect((await relayCli(['devices', ...socket()])).stdout).toMatch(
      /^pi-01\s+revoked\s.*agent revoked: enrol it again with a new token$/m,
    );

    // No restart, no hand-copied key: one relay start, relay.yaml as the test wrote it.
    expect(site.relay.exitCode).toBeUndefined();
    expect(site.relay.logs.filter((l) => l.event === 'relay.listening')).toHaveLength(1);
    // Every component names itself once in the relay's log, the admin socket and enrolment included.
    expect(site.relay.repeatedFields).toEqual([]);
    expect(await readFile(site.relayConfigFile, 'utf8')).toBe(relayYaml);
  }, 90_000);

  it('with enrolment.approve: manual the device is pending in lifeline-relay devices until approve, then the person reaches it', async () => {
    const { site, pty, device } = await startSite('enrolment: { approve: manual }');
    const { file } = await enrol('pi-02', pty.a);
    const agent = await freshAgent('pi', file);
    await agent.waitForLog('waiting for approval', (l) => l.event === 'enrol.pending');

    const table = await relayCli(['devices', ...socket()]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^pi-02\s+pending\s.*waiting for approval: lifeline-relay approve pi-02$/m);
    expect((await devicesJson()).find((d) => d.deviceId === 'pi-02')).toMatchObject({
      online: false,
      enrolment: 'pending',
      health: 'pending-approval',
    });
    // Still pending while nobody approves: the agent polls with its key, and is not let in.
    await agent.waitForLog(
      'a second poll',
      (l) => l.event === 'enrol.pending' && agent.logs.filter((m) => m.event === 'enrol.pending').length >= 2,
    );
    expect(agent.logs.some((l) => l.event === 'enrol.done')).toBe(false);

    expect(await relayCli(['approve', 'pi-02', ...socket()])).toMatchObject({ code: 0, stdout: 'pi-02: agent approved\n' });
    await agent.waitForLog('enrolled after approval', (l) => l.event === 'enrol.done', 30_000);
    await agent.waitForLog('console stream attached', (l) => l.event === 'console.stream.attached');
    await reachConsole('pi-02', device);
    expect((await relayCli(['devices', ...socket()])).stdout).toMatch(/^pi-02\s+online\s/m);

    expect(site.relay.logs.filter((l) => l.event === 'relay.listening')).toHaveLength(1);
    // Every component names itself once in the relay's log, the admin socket and enrolment included.
    expect(site.relay.repeatedFields).toEqual([]);
    expect(site.relay.logs.find((l) => l.event === 'agent.approved')).toMatchObject({ deviceId: 'pi-02' });
  }, 120_000);
});
