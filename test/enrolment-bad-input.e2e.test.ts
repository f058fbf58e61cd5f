import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@lifeline/shared/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enrolWithRelayCli } from './support/enrolment-file.js';
import { LifelineProcess, agentBin, relayBin, type LogLine } from './support/lifeline-process.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

/**
 * Bad input at enrolment, with real processes: a relay (manual approval) and fresh agents (on the
 * agent's Node.js) with only an enrolment file. Each case must give its own log line, its own
 * state on the LED (the `status.change` line and the status hook's LIFELINE_STATE), and the
 * right exit: 0 when stopped while still enrolling, 78 after a refusal.
 */
describe('enrolment bad input with real processes', () => {
  let dir: { path: string; remove(): Promise<void> };
  let relay: LifelineProcess;
  let socket: string;
  let port: number;
  let fingerprint: string;
  const agents: LifelineProcess[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('enrol-bad-input');
    socket = join(dir.path, 'admin.sock');
    await writeFile(
      join(dir.path, 'relay.yaml'),
      `listen: { host: 127.0.0.1, port: 0 }\nstateDir: ${dir.path}/state\nadminSocket: ${socket}\nenrolment: { approve: manual }\n`,
    );
    relay = LifelineProcess.start(relayBin, ['run', '--config', join(dir.path, 'relay.yaml')]);
    const listening = await relay.waitForLog('relay listening', (l) => l.event === 'relay.listening');
    port = listening.port as number;
    fingerprint = listening.hostKeyFingerprint as string;
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.stop('SIGKILL');
  });
  afterAll(async () => {
    await relay?.stop();
    await dir?.remove();
  });

  /** `lifeline-relay enrol DEVICE`'s file, with a status hook that appends "STATE|REASON" lines to `hookOut`, edited by `edit`. */
  async function enrolmentFile(name: string, device: string, edit: (text: string) => string = (t) => t): Promise<string> {
    const file = join(dir.path, `${name}.yaml`);
    await enrolWithRelayCli({ socket, port, device, out: file });
    const hookOut = join(dir.path, `${name}.states`);
    const hook = `echo "$LIFELINE_STATE|$LIFELINE_REASON" >> ${hookOut}`;
    await writeFile(file, `${edit(await readFile(file, 'utf8'))}status: { hook: ${JSON.stringify(hook)} }\n`, { mode: 0o600 });
    return file;
  }

  function startAgent(name: string, file: string): LifelineProcess {
    const agent = LifelineProcess.start(agentBin, ['run', '--config', join(dir.path, name, 'agent.yaml'), '--enrol', file]);
    agents.push(agent);
    return agent;
  }

  /** States the status hook was told, in order. */
  async function hookStates(name: string, until: string): Promise<string[]> {
    const read = async () =>
      (await readFile(join(dir.path, `${name}.states`), 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('|')[0]!);
    let states: string[] = [];
    await waitFor(
      () => `hook told ${until} (told: ${states.join(', ')})`,
      async () => {
        states = await read();
        return states.includes(until) || undefined;
      },
      10_000,
    );
    return states;
  }

  const statusChanges = (agent: LifelineProcess) => agent.logs.filter((l) => l.event === 'status.change').map((l) => l.to);
  const statusTo = (state: string) => (l: LogLine) => l.event === 'status.change' && l.to === state;

  it('waits for approval, shown as waiting-approval, and a SIGTERM meanwhile is a clean stop (exit 0)', async () => {
    await mkdir(join(dir.path, 'pi-wait'));
    const agent = startAgent('pi-wait', await enrolmentFile('pi-wait', 'rtr-wait'));
    await agent.waitForLog('pending line', (l) => l.event === 'enrol.pending');
    await agent.waitForLog('waiting-approval state', statusTo('waiting-approval'));
    expect(await hookStates('pi-wait', 'waiting-approval')).toEqual(['searching', 'waiting-approval']);
    await agent.stop('SIGTERM');
    expect(agent.exitCode).toBe(0);
    expect(agent.logs.some((l) => l.event === 'agent.stop' && l.signal === 'SIGTERM')).toBe(true);
  });

  it('refuses a used token: its own line and LED state, shown until stopped, then exit 78', async () => {
    const file = await enrolmentFile('pi-used', 'rtr-used');
    await mkdir(join(dir.path, 'pi-first'));
    const first = startAgent('pi-first', file);
    await first.waitForLog('first Pi pending', (l) => l.event === 'enrol.pending');
    await first.stop('SIGTERM');

    await mkdir(join(dir.path, 'pi-used'));
    await writeFile(join(dir.path, 'pi-used.states'), '');
    const second = startAgent('pi-used', file);
    const refused = await second.waitForLog('refused line', (l) => l.event === 'enrol.refused');
    expect(refused).toMatchObject({ reason: 'used', level: 50 });
    expect(refused.msg).toMatch(/already used/);
    await second.waitForLog('holding line', (l) => l.event === 'enrol.holding');
    expect(await hookStates('pi-used', 'refused-used-token')).toEqual(['searching', 'refused-used-token']);
    // Still running, still showing it: the LED is what the person on site reads.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(second.exitCode).toBeUndefined();
    await second.stop('SIGTERM');
    expect(second.exitCode).toBe(78);
  });

  it('will not send the token to a relay whose host key is not the one in the file: a fault, retried', async () => {
    await mkdir(join(dir.path, 'pi-key'));
    const wrong = `SHA256:${'Q'.repeat(43)}`;
    expect(wrong).not.toBe(fingerprint);
    const agent = startAgent('pi-key', await enrolmentFile('pi-key', 'rtr-key', (t) => t.replace(fingerprint, wrong)));
    const line = await agent.waitForLog('host key line', (l) => l.event === 'enrol.host-key-mismatch');
    expect(line.msg).toMatch(/not the one in the enrolment file/);
    const change = await agent.waitForLog('fault state', statusTo('fault'));
    expect(change.reason).toMatch(/host key/);
    expect(await hookStates('pi-key', 'fault')).toEqual(['searching', 'fault']);
    expect(agent.logs.some((l) => l.event === 'enrol.refused' || l.event === 'enrol.pending')).toBe(false);
    await agent.stop('SIGTERM');
    expect(agent.exitCode).toBe(0);
  });

  it('tells an unreachable relay apart from a refusal: slow blink (searching), retried, clean stop', async () => {
    await mkdir(join(dir.path, 'pi-far'));
    const closed = await freePort();
    const agent = startAgent('pi-far', await enrolmentFile('pi-far', 'rtr-far', (t) => t.replace(`port: ${port}`, `port: ${closed}`)));
    const line = await agent.waitForLog('unreachable line', (l) => l.event === 'enrol.relay-unreachable');
    expect(line).toMatchObject({ level: 40 });
    expect(line.msg).toMatch(/cannot reach the relay/);
    // The slow blink it started with goes on: no fault, no refusal, no waiting for approval.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(statusChanges(agent)).toEqual(['searching']);
    expect(await hookStates('pi-far', 'searching')).toEqual(['searching']);
    await agent.stop('SIGTERM');
    expect(agent.exitCode).toBe(0);
  });
});
