import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IpmiSolConsoleConfig } from '@lifeline/shared/core';
import { SerialFarEnd } from './serial-far-end.js';
import { startSocatPtyPair } from './socat-pty-pair.js';

/** A BMC simulator on loopback, as tests drive it. */
export interface IpmiSim {
  readonly host: string;
  /** UDP port of its RMCP+ (lanplus) listener. */
  readonly port: number;
  /** An ADMINISTRATOR user with SOL access. */
  readonly user: string;
  readonly password: string;
  /** The password in a mode-0600 file. */
  readonly passwordFile: string;
  /** The device side of the SOL line: the pty behind ipmi_sim. */
  readonly far: SerialFarEnd;
  /** A console config for this BMC (password from `passwordFile`). */
  config(extra?: Partial<IpmiSolConsoleConfig>): IpmiSolConsoleConfig;
  /** Runs ipmitool against it as `user`, as another client would (e.g. `['sol', 'deactivate']`). */
  ipmitool(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** BREAKs ipmi_sim issued on its tty so far (tcsendbreak seen by strace); needs `strace: true`. */
  breaks(): Promise<number>;
  /** What its chassis_control script was asked, one line each, e.g. `set power 1`. */
  chassisLog(): Promise<string[]>;
  /** Makes the chassis refuse to set `parm` (`power`, `reset`, `shutdown`), or refuse nothing. */
  refuseChassis(parm: string | undefined): Promise<void>;
  /** Kills ipmi_sim (the BMC resets or drops off the network); the pty stays. */
  stopSim(): Promise<void>;
  /** Starts ipmi_sim again on the same port, with fresh state. */
  startSim(): Promise<void>;
  /** Stops everything it started; the caller removes `dir`. */
  stop(): Promise<void>;
}

/**
 * OpenIPMI's ipmi_sim serving IPMI 2.0 lanplus on 127.0.0.1 with SOL on a socat pty pair and a
 * chassis_control script that records power requests; optionally under strace to see the break
 * ioctls on the pty. Each start gets a fresh state directory (saved state overrides lan.conf).
 * Throws if ipmi_sim, ipmitool, socat (or strace) is missing: tests fail rather than skip.
 */
export async function startIpmiSim(dir: string, options: { strace?: boolean } = {}): Promise<IpmiSim> {
  const password = randomBytes(6).toString('hex');
  const passwordFile = join(dir, 'bmc-password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  await chmod(passwordFile, 0o600);
  // ipmi_sim takes a uucp lock named after the tty's last path component: keep it unique.
  const ttyName = `sol-${randomBytes(4).toString('hex')}`;
  const pty = await startSocatPtyPair(dir, { names: [ttyName, `${ttyName}-far`] });
  const port = await freeUdpPort();
  const files = await writeSimFiles(dir, { port, password, tty: pty.a });
  const refuseFile = join(dir, 'chassis-refuse');
  const straceFile = join(dir, 'ipmi_sim.strace');
  let sim: ChildProcess | undefined;
  let runs = 0;

  const startSim = async () => {
    const state = join(dir, `state-${++runs}`);
    await mkdir(state);
    const args = ['-c', files.lanConf, '-f', files.emu, '-s', state, '-n', '-d'];
    const [file, argv] = options.strace
      ? ['strace', ['-f', '-e', 'trace=ioctl', '-o', straceFile, 'ipmi_sim', ...args]]
      : ['ipmi_sim', args];
    sim = await spawnSim(file, argv, port);
  };
  const stopSim = async () => {
    await stopGroup(sim);
    sim = undefined;
    // ipmi_sim leaves its uucp lock behind when killed.
    await rm(join('/var/lock', `LCK..${ttyName}`), { force: true }).catch(() => undefined);
  };

  let far: SerialFarEnd | undefined;
  try {
    await startSim();
    far = await SerialFarEnd.open(pty.b);
  } catch (err) {
    await stopSim();
    await pty.stop();
    throw err;
  }
  const config = (extra: Partial<IpmiSolConsoleConfig> = {}): IpmiSolConsoleConfig => ({
    type: 'ipmi-sol',
    host: '127.0.0.1',
    port,
    user: 'lifeline',
    passwordFile,
    cipherSuite: 3,
    privilege: 'ADMINISTRATOR',
    ...extra,
  });
  return {
    host: '127.0.0.1',
    port,
    user: 'lifeline',
    password,
    passwordFile,
    far,
    config,
    ipmitool: (args) => runIpmitoolAs(port, passwordFile, args),
    async breaks() {
      if (!options.strace) throw new Error('ipmi_sim was started without strace');
      const text = await readFile(straceFile, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => /ioctl\(\d+, TCSBRK, 0\)/.test(l)).length;
    },
    async chassisLog() {
      const text = await readFile(files.chassisLog, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean);
    },
    async refuseChassis(parm) {
      await writeFile(refuseFile, parm ?? '');
    },
    stopSim,
    startSim,
    async stop() {
      await far?.close().catch(() => undefined);
      await stopSim();
      await pty.stop();
    },
  };
}

async function writeSimFiles(dir: string, o: { port: number; password: string; tty: string }) {
  const lanConf = join(dir, 'lan.conf');
  const emu = join(dir, 'bmc.emu');
  const chassis = join(dir, 'chassis-control');
  const chassisLog = join(dir, 'chassis.log');
  const powerFile = join(dir, 'power');
  const refuseFile = join(dir, 'chassis-refuse');
  const auths = 'none md2 md5 straight';
  await writeFile(
    lanConf,
    [
      'name "lifeline-test"',
      'set_working_mc 0x20',
      '  startlan 1',
      `    addr 127.0.0.1 ${o.port}`,
      '    priv_limit admin',
      ...['callback', 'user', 'operator', 'admin'].map((p) => `    allowed_auths_${p} ${auths}`),
      '    guid a123456789abcdefa123456789abcdef',
      '  endlan',
      `  chassis_control "${chassis} 0x20"`,
      `  user 2 true "lifeline" "${o.password}" admin 10 ${auths}`,
      `  user 3 true "viewer" "${o.password}" user 10 ${auths}`,
      `  sol "${o.tty}" 115200`,
      '',
    ].join('\n'),
  );
  await writeFile(emu, 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nmc_enable 0x20\n');
  // chassis_control protocol (OpenIPMI lanserv): "<mc> get power" prints "power:<0|1>"; "<mc> set <parm> <val> ..." is silent.
  await writeFile(
    chassis,
    [
      '#!/bin/sh',
      `echo "$2 $3 $4" >> '${chassisLog}'`,
      'op=$2; shift 2',
      'case $op in',
      `  get) for p in "$@"; do [ "$p" = power ] && echo "power:$(cat '${powerFile}' 2>/dev/null || echo 0)"; done; exit 0;;`,
      `  set) while [ $# -ge 2 ]; do`,
      `    if [ "$1" = "$(cat '${refuseFile}' 2>/dev/null)" ]; then echo "refused: $1"; exit 1; fi`,
      `    if [ "$1" = power ]; then echo "$2" > '${powerFile}'; fi; shift 2; done; exit 0;;`,
      'esac',
      'exit 1',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return { lanConf, emu, chassisLog };
}

async function spawnSim(file: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  let failure: Error | undefined;
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once(
    'error',
    (err) => (failure = new Error(`cannot run ${file} (apt-get install openipmi${file === 'strace' ? ' strace' : ''}): ${err.message}`)),
  );
  child.once('exit', (code) => (failure ??= new Error(`ipmi_sim exited with ${code}: ${stderr.trim()}`)));
  const deadline = Date.now() + 10_000;
  while (!(await udpBound(port))) {
    if (failure) throw failure;
    if (Date.now() > deadline) {
      await stopGroup(child);
      throw new Error(`ipmi_sim did not listen on udp 127.0.0.1:${port}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

/** SIGTERM to the group (strace and ipmi_sim), SIGKILL after 3 s. */
async function stopGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // gone
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
  kill('SIGKILL'); // anything left in the group
}

function runIpmitoolAs(port: number, passwordFile: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [
    '-I',
    'lanplus',
    '-C',
    '3',
    '-H',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'lifeline',
    '-f',
    passwordFile,
    '-N',
    '1',
    '-R',
    '2',
    ...args,
  ];
  return new Promise((resolve) => {
    execFile('ipmitool', argv, { timeout: 15_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** 127.0.0.1:port bound per /proc/net/udp. */
async function udpBound(port: number): Promise<boolean> {
  const table = await readFile('/proc/net/udp', 'utf8');
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((line) => line.trim().split(/\s+/)[1] === local);
}
