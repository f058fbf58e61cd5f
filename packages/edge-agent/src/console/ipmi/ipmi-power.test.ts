/** Power control against OpenIPMI's ipmi_sim, whose chassis_control script records what it was asked. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLifelineError, silentLogger } from '@lifeline/shared';
import { startIpmiSim, type IpmiSim } from '../../testing/ipmi-sim.js';
import { createPowerControl } from '../power-control.js';
import { ipmiPower } from './ipmi-power.js';

for (const program of ['ipmi_sim', 'ipmitool', 'socat']) {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`these tests need the program "${program}" (apt-get install openipmi ipmitool socat)`);
  }
}

const deps = { logger: silentLogger() };

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('ipmiPower', () => {
  let dir: string;
  let sim: IpmiSim;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-ipmi-power-'));
    sim = await startIpmiSim(dir);
  });
  afterAll(async () => {
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Chassis requests since `from` lines, without the status reads. */
  async function requestsSince(from: number): Promise<string[]> {
    return (await sim.chassisLog()).slice(from).filter((line) => !line.startsWith('get'));
  }

  it("reads the power state and switches it on and (hard) off, answering with the BMC's words", async () => {
    expect(await ipmiPower(sim.config(), 'status', deps)).toBe('Chassis Power is off');
    const from = (await sim.chassisLog()).length;
    expect(await ipmiPower(sim.config(), 'on', deps)).toBe('Chassis Power Control: Up/On');
    expect(await ipmiPower(sim.config(), 'status', deps)).toBe('Chassis Power is on');
    expect(await ipmiPower(sim.config(), 'off', deps)).toBe('Chassis Power Control: Down/Off');
    expect(await ipmiPower(sim.config(), 'status', deps)).toBe('Chassis Power is off');
    expect(await requestsSince(from)).toEqual(['set power 1', 'set power 0']);
  });

  it('cycles (off, then on again), resets, and asks for an ACPI soft off', async () => {
    await ipmiPower(sim.config(), 'on', deps);
    const from = (await sim.chassisLog()).length;
    expect(await ipmiPower(sim.config(), 'cycle', deps)).toBe('Chassis Power Control: Cycle');
    await until('power back on after the cycle', async () => (await requestsSince(from)).includes('set power 1'));
    expect(await ipmiPower(sim.config(), 'reset', deps)).toBe('Chassis Power Control: Reset');
    expect(await ipmiPower(sim.config(), 'soft', deps)).toBe('Chassis Power Control: Soft');
    expect(await requestsSince(from)).toEqual(['set power 0', 'set power 1', 'set reset 1', 'set shutdown 1']);
  });

  it('fails with POWER_FAILED when the BMC refuses the action', async () => {
    await sim.refuseChassis('reset');
    try {
      const err = await ipmiPower(sim.config(), 'reset', deps).catch((e: unknown) => e);
      expect(isLifelineError(err, 'POWER_FAILED')).toBe(true);
      expect((err as Error).message).toBe(`BMC 127.0.0.1:${sim.port} refused power reset: Unspecified error`);
    } finally {
      await sim.refuseChassis(undefined);
    }
  });

  it('fails with POWER_FAILED saying the password is wrong', async () => {
    const wrong = join(dir, 'wrong-password');
    await writeFile(wrong, 'nope\n', { mode: 0o600 });
    const err = await ipmiPower(sim.config({ passwordFile: wrong }), 'status', deps).catch((e: unknown) => e);
    expect(isLifelineError(err, 'POWER_FAILED')).toBe(true);
    expect((err as Error).message).toBe(
      `power status: BMC 127.0.0.1:${sim.port} refused the login: wrong password for user "lifeline" (check passwordFile or LIFELINE_IPMI_PASSWORD)`,
    );
  });

  it('fails with POWER_FAILED when the BMC does not answer', async () => {
    const err = await ipmiPower(sim.config({ port: 9 }), 'cycle', deps).catch((e: unknown) => e);
    expect(isLifelineError(err, 'POWER_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/^power cycle: BMC 127\.0\.0\.1:9 is not answering/);
  });

  it('is offered for IPMI consoles only', async () => {
    expect(createPowerControl({ type: 'sim', hostname: 'r1' }, deps)).toBeUndefined();
    expect(createPowerControl({ type: 'telnet', host: '10.0.0.5', port: 7001, rfc2217: true }, deps)).toBeUndefined();
    const control = createPowerControl(sim.config(), deps);
    expect(await control?.power('status')).toMatch(/^Chassis Power is (on|off)$/);
  });
});
