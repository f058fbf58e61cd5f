/**
 * IpmiSolConsolePort against a real BMC simulator: OpenIPMI's ipmi_sim on 127.0.0.1 (lanplus),
 * SOL backed by a socat pty pair whose far end the tests drive, and the real ipmitool.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLifelineError, silentLogger, type IpmiSolConsoleConfig } from '@lifeline/shared';
import { startIpmiSim, type IpmiSim } from '../../testing/ipmi-sim.js';
import { describeConsolePortContract, PortReader, withTimeout } from '../console-port.contract.js';
import { IpmiSolConsolePort, type IpmiSolConsolePortDeps } from './ipmi-sol-console-port.js';

for (const program of ['ipmi_sim', 'ipmitool', 'socat', 'strace', 'stdbuf']) {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`these tests need the program "${program}" (apt-get install openipmi ipmitool socat strace)`);
  }
}

async function simulator(options: { strace?: boolean } = {}): Promise<{ sim: IpmiSim; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeline-ipmi-'));
  const sim = await startIpmiSim(dir, options);
  return {
    sim,
    async cleanup() {
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function makePort(config: IpmiSolConsoleConfig, deps: Partial<IpmiSolConsolePortDeps> = {}): IpmiSolConsolePort {
  return new IpmiSolConsolePort(config, { logger: silentLogger(), watchIntervalMs: 1_000, ...deps });
}

/** Command lines of every process on the machine that mentions `needle`. */
async function processesMentioning(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
    if (cmdline.includes(needle)) found.push(cmdline.replace(/\0/g, ' ').trim());
  }
  return found;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What `promise` rejects with, within `timeoutMs`. */
async function rejection(promise: Promise<unknown>, timeoutMs = 20_000): Promise<unknown> {
  const settled = promise.then(
    () => new Error('resolved, expected a rejection'),
    (err: unknown) => err,
  );
  return withTimeout(settled, timeoutMs, () => `no rejection within ${timeoutMs} ms`);
}

// The simulator's break is checked by the strace tests below: it reaches the tty asynchronously,
// which the contract's synchronous `breaks()` cannot wait for.
describeConsolePortContract('IpmiSolConsolePort via ipmi_sim', async () => {
  const { sim, cleanup } = await simulator();
  const port = makePort(sim.config());
  return {
    port,
    far: sim.far,
    cleanup: async () => {
      await port.close();
      await cleanup();
    },
  };
});

describe('IpmiSolConsolePort', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function bmc(options: { strace?: boolean } = {}): Promise<IpmiSim> {
    const { sim, cleanup } = await simulator(options);
    cleanups.push(async () => {
      await cleanup();
      expect(await processesMentioning(`-p\0${sim.port}\0`), 'ipmitool processes left behind').toEqual([]);
    });
    return sim;
  }

  function track(port: IpmiSolConsolePort): IpmiSolConsolePort {
    cleanups.push(() => port.close());
    return port;
  }

  it('never lets console data act as an ipmitool escape: every byte after CR and LF arrives as sent', async () => {
    const sim = await bmc({ strace: true });
    const port = track(makePort(sim.config()));
    await port.open();
    const escapes = ['~.', '~B', '~?', '~~', '~\x1a', '~\x18', '~'].map((e) => Buffer.from(e, 'latin1'));
    const data = Buffer.concat([
      ...escapes, // first bytes ipmitool reads count as line start
      ...escapes.flatMap((e) => [Buffer.from('\r'), e, Buffer.from('\n'), e]),
      ...Array.from({ length: 256 }, (_, i) => Buffer.from([0x0d, 0x7e, i, 0x0a, 0x7e, 0x7e, i])),
      Buffer.from('\r~.'),
    ]);
    await port.write(data);
    expect(await sim.far.readExactly(data.length)).toEqual(data);
    expect(port.isOpen).toBe(true);
    expect(await sim.breaks()).toBe(0);
    await sim.far.write('still here');
    expect((await new PortReader(port).readExactly(10)).toString()).toBe('still here');
  });

  it("sends a BREAK that reaches the tty behind the BMC, and keeps ipmitool's notice out of the output", async () => {
    const sim = await bmc({ strace: true });
    const port = track(makePort(sim.config()));
    await port.open();
    await port.setBreak(true);
    await port.setBreak(false);
    await until('the break on the tty', async () => (await sim.breaks()) === 1);
    await sim.far.write('rommon 1 > ');
    expect((await new PortReader(port).readExactly(11)).toString()).toBe('rommon 1 > ');
    await port.write(Buffer.from('confreg\r'));
    expect((await sim.far.readExactly(8)).toString()).toBe('confreg\r');
  });

  it('sends a BREAK after a half-typed line without adding a byte (a fresh ipmitool) and keeps the console', async () => {
    const sim = await bmc({ strace: true });
    const port = track(makePort(sim.config()));
    await port.open();
    const reader = new PortReader(port);
    // Two SOL packets: ipmi_sim keeps its duplicate check (last sequence number) across
    // activations, so a new session's first packet (sequence 1, here the break) would be
    // dropped as a duplicate if the old session's last one was sequence 1 too. BMCs reset it.
    await port.write(Buffer.from('rel'));
    expect((await sim.far.readExactly(3)).toString()).toBe('rel');
    await port.write(Buffer.from('oad'));
    expect((await sim.far.readExactly(3)).toString()).toBe('oad');
    await port.setBreak(true);
    await until('the break on the tty', async () => (await sim.breaks()) === 1);
    await port.write(Buffer.from('~x'));
    await port.setBreak(true); // right after "x": another fresh ipmitool
    await until('the second break on the tty', async () => (await sim.breaks()) === 2);
    await port.write(Buffer.from('\r'));
    expect((await sim.far.readExactly(3)).toString('latin1')).toBe('~x\r');
    await expect(sim.far.readExactly(1, 300)).rejects.toThrow(/got 0 of 1/);
    await sim.far.write('>');
    expect((await reader.readExactly(1)).toString()).toBe('>');
    expect(port.isOpen).toBe(true);
  });

  it('rejects the pending read with CONSOLE_DISCONNECTED when another client deactivates SOL, and opens again', async () => {
    const sim = await bmc();
    const port = track(makePort(sim.config(), { watchIntervalMs: 300 }));
    await port.open();
    const read = rejection(port.read());
    expect((await sim.ipmitool(['sol', 'deactivate'])).code).toBe(0);
    const err = await read;
    expect(isLifelineError(err, 'CONSOLE_DISCONNECTED')).toBe(true);
    expect((err as Error).message).toMatch(/SOL console of BMC 127\.0\.0\.1:\d+: the BMC ended the SOL session/);
    expect(port.isOpen).toBe(false);
    await port.close();
    await port.open();
    await sim.far.write('back');
    expect((await new PortReader(port).readExactly(4)).toString()).toBe('back');
  });

  it('gives SOL up to another client that took it over, without deactivating the newcomer', async () => {
    const sim = await bmc();
    const port = track(makePort(sim.config(), { watchIntervalMs: 2_000 }));
    await port.open();
    const read = rejection(port.read());
    await new Promise((resolve) => setTimeout(resolve, 500)); // the first check has seen this session hold SOL
    expect((await sim.ipmitool(['sol', 'deactivate'])).code).toBe(0);
    const other = spawn(
      'stdbuf',
      [
        '-oL',
        'ipmitool',
        '-I',
        'lanplus',
        '-C',
        '3',
        '-H',
        '127.0.0.1',
        '-p',
        String(sim.port),
        '-U',
        sim.user,
        '-f',
        sim.passwordFile,
        'sol',
        'activate',
      ],
      {
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    );
    const otherExited = new Promise((resolve) => other.once('exit', resolve));
    cleanups.push(async () => {
      other.kill('SIGKILL');
      await otherExited;
    });
    await new Promise((resolve) => other.stdout.once('data', resolve)); // its banner: SOL is the other's
    const err = await read;
    expect(isLifelineError(err, 'CONSOLE_DISCONNECTED')).toBe(true);
    expect((err as Error).message).toMatch(/another IPMI session took over the SOL console/);
    await port.close();
    expect((await sim.ipmitool(['raw', '0x06', '0x4a', '0x01'])).stdout.trim()).toBe('01 01 00'); // still the other's
  });

  it('ends with CONSOLE_DISCONNECTED when ipmitool gives up on a SOL session the BMC dropped', async () => {
    const sim = await bmc();
    const port = track(makePort(sim.config(), { watchIntervalMs: 0 }));
    await port.open();
    const read = rejection(port.read());
    expect((await sim.ipmitool(['sol', 'deactivate'])).code).toBe(0);
    // Unwatched, only the next keystroke tells: the BMC no longer acknowledges SOL data.
    await port.write(Buffer.from('x'));
    const err = await read;
    expect(isLifelineError(err, 'CONSOLE_DISCONNECTED')).toBe(true);
    expect((err as Error).message).toMatch(/the BMC ended the SOL session/);
    expect(isLifelineError(await rejection(port.write(Buffer.from('y'))), 'CONSOLE_DISCONNECTED')).toBe(true);
  });

  it('notices a BMC that stopped answering, and opens again once it is back', async () => {
    const sim = await bmc();
    const port = track(makePort(sim.config(), { watchIntervalMs: 300 }));
    await port.open();
    const read = rejection(port.read());
    await sim.stopSim();
    const err = await read;
    expect(isLifelineError(err, 'CONSOLE_DISCONNECTED')).toBe(true);
    expect((err as Error).message).toMatch(/stopped answering|ended the SOL session/);
    await port.close();
    expect(isLifelineError(await rejection(port.open()), 'CONSOLE_NOT_PRESENT')).toBe(true);
    await sim.startSim();
    await port.open();
    await port.write(Buffer.from('hello\r'));
    expect((await sim.far.readExactly(6)).toString()).toBe('hello\r');
  });

  it('clears a SOL session a killed client left active on the BMC', async () => {
    const sim = await bmc();
    const stale = spawn(
      'ipmitool',
      ['-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', String(sim.port), '-U', sim.user, '-f', sim.passwordFile, 'sol', 'activate'],
      {
        stdio: ['pipe', 'ignore', 'ignore'],
      },
    );
    const exited = new Promise((resolve) => stale.once('exit', resolve));
    cleanups.push(async () => void stale.kill('SIGKILL'));
    // Get Payload Activation Status: SOL instance 1 active.
    const solActive = async () => (await sim.ipmitool(['raw', '0x06', '0x4a', '0x01'])).stdout.trim() === '01 01 00';
    await until("the other client's SOL session", solActive);
    stale.kill('SIGKILL'); // no deactivation: SOL stays active on the BMC
    await exited;
    expect(await solActive()).toBe(true);
    const port = track(makePort(sim.config()));
    await port.open();
    await sim.far.write('login: ');
    expect((await new PortReader(port).readExactly(7)).toString()).toBe('login: ');
  });

  it('says the password is wrong, naming the user', async () => {
    const sim = await bmc();
    const wrong = join(sim.passwordFile + '-wrong');
    await writeFile(wrong, 'not-the-password\n', { mode: 0o600 });
    const err = await rejection(track(makePort(sim.config({ passwordFile: wrong }))).open());
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/refused the login: wrong password for user "lifeline"/);
  });

  it('says the BMC has no such user', async () => {
    const sim = await bmc();
    const err = await rejection(track(makePort(sim.config({ user: 'nobody' }))).open());
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/no enabled user "nobody"/);
  });

  it('says which cipher suite the BMC refused', async () => {
    const sim = await bmc();
    const err = await rejection(track(makePort(sim.config({ cipherSuite: 17 }))).open());
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/refused cipher suite 17; set cipherSuite/);
  });

  it('names the fix when SOL is disabled on the BMC', async () => {
    const sim = await bmc();
    expect((await sim.ipmitool(['sol', 'set', 'enabled', 'false', '1'])).code).toBe(0);
    const err = await rejection(track(makePort(sim.config())).open());
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/Serial-over-LAN is disabled for user "lifeline".*sol payload enable 1 <userid>/);
  });

  it('reports a BMC nobody answers for as not present', async () => {
    const sim = await bmc();
    await sim.stopSim();
    const err = await rejection(track(makePort(sim.config())).open());
    expect(isLifelineError(err, 'CONSOLE_NOT_PRESENT')).toBe(true);
    expect((err as Error).message).toMatch(/BMC 127\.0\.0\.1:\d+ is not answering/);
  });

  it('says when ipmitool is missing on the agent', async () => {
    const sim = await bmc();
    const err = await rejection(track(makePort(sim.config(), { ipmitool: '/nonexistent/ipmitool' })).open());
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect((err as Error).message).toBe('/nonexistent/ipmitool is not installed on the agent (apt-get install ipmitool)');
  });

  it('refuses a password file that group or others may read, before asking the BMC', async () => {
    const sim = await bmc();
    await chmod(sim.passwordFile, 0o644);
    const err = await rejection(track(makePort(sim.config())).open());
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/has mode 644; it must not be readable by group or others \(chmod 600/);
  });

  it('takes the password from LIFELINE_IPMI_PASSWORD and never shows it on a command line', async () => {
    const sim = await bmc();
    const { passwordFile: _omit, ...config } = sim.config();
    const port = track(makePort(config, { env: { ...process.env, LIFELINE_IPMI_PASSWORD: sim.password } }));
    await port.open();
    expect(await processesMentioning(`-p\0${sim.port}\0`)).not.toEqual([]); // ipmitool is running
    expect(await processesMentioning(sim.password)).toEqual([]);
    await port.write(Buffer.from('env\r'));
    expect((await sim.far.readExactly(4)).toString()).toBe('env\r');
  });

  it('never shows the password of a password file on a command line either', async () => {
    const sim = await bmc();
    const port = track(makePort(sim.config()));
    await port.open();
    expect(await processesMentioning(`-f\0${sim.passwordFile}`)).not.toEqual([]);
    expect(await processesMentioning(sim.password)).toEqual([]);
  });
});
