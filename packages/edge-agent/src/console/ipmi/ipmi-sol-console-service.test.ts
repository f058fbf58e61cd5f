/**
 * The agent's ConsoleService over an IPMI SOL console (ipmi_sim, real ipmitool): what the relay
 * side sees when the BMC drops SOL, and that the service brings it back on its own.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type ConsoleStatus } from '@lifeline/shared';
import { startIpmiSim, type IpmiSim } from '../../testing/ipmi-sim.js';
import { ConsoleService } from '../console-service.js';
import type { ConsoleStream } from '../console-stream.js';
import { IpmiSolConsolePort } from './ipmi-sol-console-port.js';

/** The relay's stream as the service sees it: records output and statuses, injects input and breaks. */
class RecordingStream implements ConsoleStream {
  readonly statuses: ConsoleStatus[] = [];
  private output = Buffer.alloc(0);
  private data: Array<(c: Buffer) => void> = [];
  private breaks: Array<(a: 'on' | 'off' | 'pulse') => void> = [];
  write(chunk: Buffer): boolean {
    this.output = Buffer.concat([this.output, chunk]);
    return true;
  }
  onceDrain(): void {}
  sendStatus(status: ConsoleStatus): void {
    this.statuses.push(status);
  }
  onData(l: (c: Buffer) => void): void {
    this.data.push(l);
  }
  onBreak(l: (a: 'on' | 'off' | 'pulse') => void): void {
    this.breaks.push(l);
  }
  onWriterClaim(): void {}
  refuseWriter(): boolean {
    return false;
  }
  pause(): void {}
  resume(): void {}
  onClose(): void {}
  close(): void {}
  type(text: string): void {
    for (const l of this.data) l(Buffer.from(text));
  }
  sendBreak(): void {
    for (const l of this.breaks) l('pulse');
  }
  text(): string {
    return this.output.toString('latin1');
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function ipmitoolsFor(port: number): Promise<number> {
  let count = 0;
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
    if (cmdline.includes(`-p\0${port}\0`)) count++;
  }
  return count;
}

describe('ConsoleService over IPMI SOL', () => {
  let dir: string | undefined;
  let sim: IpmiSim | undefined;
  let service: ConsoleService | undefined;
  afterEach(async () => {
    await service?.stop();
    if (sim) expect(await ipmitoolsFor(sim.port), 'ipmitool processes left behind').toBe(0);
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    service = sim = dir = undefined;
  });

  it('bridges the SOL console, passes a break, and reports and recovers a SOL session the BMC dropped', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-ipmi-service-'));
    const bmc = (sim = await startIpmiSim(dir, { strace: true }));
    const port = new IpmiSolConsolePort(bmc.config(), { logger: silentLogger(), watchIntervalMs: 300 });
    const stream = new RecordingStream();
    service = new ConsoleService({ deviceId: 'srv-1', port, retryMs: 200, logger: silentLogger() });
    service.start();
    service.attachStream(stream);
    await until('the console up', () => service!.consoleStatus.state === 'up');

    await bmc.far.write('login: ');
    await until('the prompt at the relay', () => stream.text().endsWith('login: '));
    stream.type('root\r');
    expect((await bmc.far.readExactly(5)).toString()).toBe('root\r');
    stream.sendBreak();
    await until('the break on the tty', async () => (await bmc.breaks()) === 1);

    const seen = stream.statuses.length;
    expect((await bmc.ipmitool(['sol', 'deactivate'])).code).toBe(0);
    const after = () => stream.statuses.slice(seen);
    await until('the loss reported', () => after().some((s) => s.state === 'down'));
    expect(after().find((s) => s.state === 'down')?.message).toMatch(
      /^SOL console of BMC 127\.0\.0\.1:\d+: the BMC ended the SOL session; waiting for it to come back$/,
    );
    await until('the console back', () => after().at(-1)?.state === 'up');
    expect(stream.statuses.at(-1)?.message).toBe(`SOL console of BMC 127.0.0.1:${bmc.port} is back`);

    await bmc.far.write('Password: ');
    await until('output after the reopen', () => stream.text().endsWith('Password: '));
  });
});
