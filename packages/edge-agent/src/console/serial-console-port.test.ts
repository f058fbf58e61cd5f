import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLifelineError, silentLogger, type SerialConsoleConfig } from '@lifeline/shared';
import { SerialFarEnd, startSocatPtyPair, type SocatPtyPair } from '../testing/index.js';
import { describeConsolePortContract, PortReader } from './console-port.contract.js';
import { SerialConsolePort } from './serial-console-port.js';

// Real ttys from socat; a missing program fails the run in CI rather than skipping.
const haveSocat = hasProgram('socat');
const haveStrace = hasProgram('strace');
const ci = process.env.CI === 'true';

function config(path: string): SerialConsoleConfig {
  return { type: 'serial', path, baudRate: 115_200, dataBits: 8, parity: 'none', stopBits: 1, flowControl: 'none' };
}

describe.skipIf(!haveSocat && !ci)('SerialConsolePort on a socat pty pair', () => {
  let dir: string;
  const stoppers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-serial-'));
  });
  afterEach(async () => {
    // Every stopper runs even if one fails, so no socat outlives the test.
    const errors: unknown[] = [];
    for (const stop of stoppers.splice(0).reverse()) await stop().catch((e: unknown) => errors.push(e));
    await rm(dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  });

  async function pair(): Promise<SocatPtyPair> {
    const p = await startSocatPtyPair(dir);
    stoppers.push(() => p.stop());
    return p;
  }

  async function openPort(path: string, readQueueBytes?: number): Promise<SerialConsolePort> {
    const port = new SerialConsolePort(config(path), { logger: silentLogger(), readQueueBytes });
    stoppers.push(() => port.close());
    await port.open();
    return port;
  }

  async function farEnd(path: string): Promise<SerialFarEnd> {
    const far = await SerialFarEnd.open(path);
    stoppers.push(() => far.close());
    return far;
  }

  describeConsolePortContract('SerialConsolePort over socat', async () => {
    const ptys = await pair();
    const port = new SerialConsolePort(config(ptys.a), { logger: silentLogger() });
    const far = await farEnd(ptys.b);
    return { port, far, cleanup: () => port.close() };
  });

  it('reports a missing device path as "serial port <path> is not present"', async () => {
    const path = join(dir, 'ttyUSB0');
    const port = new SerialConsolePort(config(path), { logger: silentLogger() });
    const err = await port.open().catch((e: unknown) => e);
    expect(isLifelineError(err, 'CONSOLE_NOT_PRESENT')).toBe(true);
    expect((err as Error).message).toBe(`serial port ${path} is not present`);
    expect(port.isOpen).toBe(false);
  });

  it('rejects a pending read with CONSOLE_DISCONNECTED when the line vanishes, and closes the port', async () => {
    const ptys = await pair();
    const port = await openPort(ptys.a);
    const pending = port.read().catch((e: unknown) => e);
    await ptys.stop();
    const err = await pending;
    expect(isLifelineError(err, 'CONSOLE_DISCONNECTED')).toBe(true);
    expect(port.isOpen).toBe(false);
    expect(isLifelineError(await port.write(Buffer.from('x')).catch((e: unknown) => e), 'CONSOLE_DISCONNECTED')).toBe(true);
  });

  it('reports a hangup seen while reading was paused as CONSOLE_DISCONNECTED instead of spinning', async () => {
    // With the read queue full the port stops reading; after socat exits the pty has hung up and
    // the next read returns 0 bytes, which bindings-cpp's own read would retry forever.
    const ptys = await pair();
    const port = await openPort(ptys.a, 1024);
    const far = await farEnd(ptys.b);
    await far.write(Buffer.alloc(8192, 0x55));
    await new Promise((r) => setTimeout(r, 300));
    await ptys.stop();
    let received = 0;
    const err = await (async () => {
      for (;;) received += (await port.read()).length;
    })().catch((e: unknown) => e);
    expect(isLifelineError(err, 'CONSOLE_DISCONNECTED')).toBe(true);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(8192);
  });

  it('opens again once the vanished path reappears', async () => {
    const first = await pair();
    const port = await openPort(first.a);
    const lost = port.read().catch((e: unknown) => e);
    await first.stop();
    expect(isLifelineError(await lost, 'CONSOLE_DISCONNECTED')).toBe(true);
    expect(isLifelineError(await port.open().catch((e: unknown) => e), 'CONSOLE_NOT_PRESENT')).toBe(true);

    const second = await pair();
    expect(second.a).toBe(first.a);
    await port.open();
    const far = await farEnd(second.b);
    await far.write('back\r\n');
    expect((await new PortReader(port).readExactly(6)).toString()).toBe('back\r\n');
  });

  describe.skipIf(!haveStrace && !ci)('BREAK', () => {
    it('issues TIOCSBRK then TIOCCBRK on the tty (seen by strace) and resolves on a pty', async () => {
      const ptys = await pair();
      const out = join(dir, 'strace.txt');
      const script = breakProbeScript(ptys.a);
      const { code, stdout, stderr } = await run('strace', [
        '-f',
        '-e',
        'trace=ioctl',
        '-o',
        out,
        process.execPath,
        '--input-type=module',
        '-e',
        script,
      ]);
      expect({ code, stdout: stdout.trim() }, stderr).toEqual({ code: 0, stdout: 'break on/off resolved' });
      const trace = await readFile(out, 'utf8');
      const set = trace.search(/ioctl\(\d+, TIOCSBRK\) += 0/);
      const clear = trace.search(/ioctl\(\d+, TIOCCBRK\) += 0/);
      expect(set, trace).toBeGreaterThanOrEqual(0);
      expect(clear, trace).toBeGreaterThan(set);
    });
  });
});

/** A node script (run under strace) that opens `path` with the built SerialConsolePort and toggles BREAK. */
function breakProbeScript(path: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = resolve(here, '../../dist/console/serial-console-port.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npx tsc -b\` first`);
  return `
    import { SerialConsolePort } from ${JSON.stringify(pathToFileURL(built).href)};
    const logger = { child: () => logger, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    const port = new SerialConsolePort(${JSON.stringify(config(path))}, { logger });
    await port.open();
    await port.setBreak(true);
    await port.setBreak(false);
    await port.close();
    console.log('break on/off resolved');
  `;
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

function hasProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}
