import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enrolWithRelayCli } from './support/enrolment-file.js';
import { LifelineProcess, agentBin, relayBin } from './support/lifeline-process.js';

/**
 * Real processes: the relay, `lifeline-relay enrol`, and a fresh agent (on the agent's Node.js)
 * with only the enrolment file. Not yet here: a person reaching the console with OpenSSH (needs
 * the live inventory to route people to enrolled devices) and a socat serial console.
 */
describe('zero-touch enrolment with real processes', () => {
  let dir: string;
  const procs: LifelineProcess[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a fresh agent with only an enrolment file comes online; the same token is refused a second time', async () => {
    dir = await mkdtemp(join(tmpdir(), 'enrolment-e2e-'));
    const socket = join(dir, 'admin.sock');
    await writeFile(join(dir, 'relay.yaml'), `listen: { host: 127.0.0.1, port: 0 }\nstateDir: ${dir}/state\nadminSocket: ${socket}\n`);
    const relay = LifelineProcess.start(relayBin, ['run', '--config', join(dir, 'relay.yaml')]);
    procs.push(relay);
    const listening = await relay.waitForLog('relay listening', (l) => l.event === 'relay.listening');
    const port = listening.port as number;

    const enrolFile = join(dir, 'lifeline-enrol.yaml');
    const made = await enrolWithRelayCli({ socket, port, device: 'pi-01', out: enrolFile });
    const token = /^[0-9a-f]{32}$/m.exec(made)?.[0];
    expect(token).toBeDefined();
    expect((await stat(enrolFile)).mode & 0o777).toBe(0o600);

    await mkdir(join(dir, 'pi1'));
    const agent = LifelineProcess.start(agentBin, ['run', '--config', join(dir, 'pi1', 'agent.yaml'), '--enrol', enrolFile]);
    procs.push(agent);
    await agent.waitForLog('enrolled', (l) => l.event === 'enrol.done');
    await agent.waitForLog('tunnel connected', (l) => l.msg === 'tunnel connected');
    const agentYaml = await readFile(join(dir, 'pi1', 'agent.yaml'), 'utf8');
    expect(agentYaml).toContain('device: pi-01');
    expect(agentYaml).not.toContain(token!);
    expect((await stat(join(dir, 'pi1', 'agent.yaml'))).mode & 0o777).toBe(0o600);

    await mkdir(join(dir, 'pi2'));
    const second = LifelineProcess.start(agentBin, ['run', '--config', join(dir, 'pi2', 'agent.yaml'), '--enrol', enrolFile]);
    procs.push(second);
    const refused = await second.waitForLog('refused', (l) => l.event === 'enrol.refused');
    expect(refused.reason).toBe('used');
    // The refusal stays on the LED until the agent is stopped; then 78: the operator must make a
    // new enrolment file, and systemd does not restart the agent in a loop.
    await second.waitForLog('holding the refusal', (l) => l.event === 'enrol.holding');
    await second.stop();
    expect(second.exitCode).toBe(78);
  }, 60_000);
});
