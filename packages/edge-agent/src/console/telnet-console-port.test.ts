/**
 * TelnetConsolePort against a real ser2net (RFC 2217) in front of a socat pty pair, and against
 * plain TCP servers for what ser2net cannot be made to do (stay silent, flood).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeIac, isLifelineError, silentLogger, type TelnetConsoleConfig } from '@lifeline/shared';
import { FakeClock, freePort } from '@lifeline/shared/testing';
import { startSer2net, type Ser2netServer } from '../testing/ser2net-server.js';
import { startSocatPtyPair, type SocatPtyPair } from '../testing/socat-pty-pair.js';
import { SerialFarEnd } from '../testing/serial-far-end.js';
import { describeConsolePortContract, patternBytes, PortReader } from './console-port.contract.js';
import { TelnetConsolePort, type TelnetConsolePortDeps } from './telnet-console-port.js';

for (const program of ['socat', 'ser2net', 'strace']) {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`these tests need the program "${program}" (apt-get install ${program})`);
  }
}

/** A pty line served by ser2net on 127.0.0.1, ser2net's ioctls optionally traced. */
class Ser2netLine {
  private constructor(
    readonly dir: string,
    readonly far: SerialFarEnd,
    private readonly pty: SocatPtyPair,
    private readonly ser2net: Ser2netServer,
  ) {}

  static async start(options: { strace?: boolean; kickOldUser?: boolean } = {}): Promise<Ser2netLine> {
    const dir = await mkdtemp(join(tmpdir(), 'lifeline-telnet-port-'));
    const pty = await startSocatPtyPair(dir);
    const ser2net = await startSer2net(dir, pty.a, options);
    const far = await SerialFarEnd.open(pty.b);
    return new Ser2netLine(dir, far, pty, ser2net);
  }

  get port(): number {
    return this.ser2net.port;
  }

  /** ioctl lines ser2net has issued so far. */
  ioctls(): Promise<string[]> {
    return this.ser2net.ioctls();
  }

  stopSer2net(): Promise<void> {
    return this.ser2net.stop();
  }

  async stop(): Promise<void> {
    await this.stopSer2net();
    await this.far.close().catch(() => undefined);
    await this.pty.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function telnetConfig(port: number, extra: Partial<TelnetConsoleConfig> = {}): TelnetConsoleConfig {
  return { type: 'telnet', host: '127.0.0.1', port, rfc2217: true, ...extra };
}

function makePort(port: number, extra: Partial<TelnetConsoleConfig> = {}, deps: Partial<TelnetConsolePortDeps> = {}) {
  return new TelnetConsolePort(telnetConfig(port, extra), { logger: silentLogger(), ...deps });
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

// ser2net's break ioctls are checked by the strace tests below: the contract's synchronous
// `breaks()` would race ser2net, so the far end leaves it out.
describeConsolePortContract('TelnetConsolePort via ser2net (RFC 2217)', async () => {
  const line = await Ser2netLine.start();
  const port = makePort(line.port);
  return {
    port,
    far: line.far,
    cleanup: async () => {
      await port.close();
      await line.stop();
    },
  };
});

describe('TelnetConsolePort', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function line(options: { strace?: boolean; kickOldUser?: boolean } = {}): Promise<Ser2netLine> {
    const l = await Ser2netLine.start(options);
    cleanups.push(() => l.stop());
    return l;
  }

  function track(port: TelnetConsolePort): TelnetConsolePort {
    cleanups.push(() => port.close());
    return port;
  }

  async function server(onConnection: (socket: Socket) => void): Promise<number> {
    const sockets: Socket[] = [];
    const s: Server = createServer((socket) => {
      sockets.push(socket);
      onConnection(socket);
    });
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => s.close(resolve));
    });
    return (s.address() as { port: number }).port;
  }

  it('round-trips all 256 byte values both ways through ser2net', async () => {
    const l = await line();
    const port = track(makePort(l.port));
    await port.open();
    await port.write(allBytes);
    expect(await l.far.readExactly(256)).toEqual(allBytes);
    await l.far.write(allBytes);
    expect(await new PortReader(port).readExactly(256)).toEqual(allBytes);
  });

  it('rejects open with CONSOLE_NOT_PRESENT naming the terminal server when the connection is refused', async () => {
    const free = await freePort();
    const port = track(makePort(free));
    const err = await port.open().catch((e: unknown) => e);
    expect(isLifelineError(err, 'CONSOLE_NOT_PRESENT')).toBe(true);
    expect((err as Error).message).toBe(`terminal server 127.0.0.1:${free} is not reachable (connection refused)`);
    expect(port.isOpen).toBe(false);
  });

  it('rejects a pending read with CONSOLE_DISCONNECTED when ser2net goes away, then reports it absent', async () => {
    const l = await line();
    const port = track(makePort(l.port));
    await port.open();
    const pending = port.read().catch((e: unknown) => e);
    await l.stopSer2net();
    const err = await pending;
    expect(isLifelineError(err, 'CONSOLE_DISCONNECTED')).toBe(true);
    // A clean FIN or, with bytes unread on ser2net's side, a reset: the same loss either way.
    expect((err as Error).message).toMatch(new RegExp(`^terminal server 127\\.0\\.0\\.1:${l.port} closed the connection`));
    expect(port.isOpen).toBe(false);
    const writeErr = await port.write(Buffer.from('x')).catch((e: unknown) => e);
    expect(isLifelineError(writeErr, 'CONSOLE_DISCONNECTED')).toBe(true);
    await expect(port.open()).rejects.toSatisfy((e) => isLifelineError(e, 'CONSOLE_NOT_PRESENT'));
  });

  it('fails to open with CONSOLE_OPEN_FAILED when ser2net hangs up because its port is in use', async () => {
    const l = await line({ kickOldUser: false });
    const first = track(makePort(l.port));
    await first.open();
    const second = track(makePort(l.port));
    const err = await second.open().catch((e: unknown) => e);
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect(second.isOpen).toBe(false);
    expect(isLifelineError(await second.read().catch((e: unknown) => e), 'CONSOLE_CANCELED')).toBe(true);
    await first.write(Buffer.from('still'));
    expect((await l.far.readExactly(5)).toString()).toBe('still');
  });

  it('quotes what a terminal server said before hanging up during open', async () => {
    const tcp = await server((socket) => {
      socket.on('data', () => undefined);
      socket.end(Buffer.concat([Buffer.from([255, 253, 44]), Buffer.from('Port already in use\r\n')]));
    });
    const err = await track(makePort(tcp))
      .open()
      .catch((e: unknown) => e);
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect((err as Error).message).toBe(`terminal server 127.0.0.1:${tcp} closed the connection while it was opened: Port already in use`);
  });

  it('holds BREAK with RFC 2217: ser2net issues TIOCSBRK, then TIOCCBRK on clear', async () => {
    const l = await line({ strace: true });
    const port = track(makePort(l.port));
    await port.open();
    const before = (await l.ioctls()).length;
    await port.setBreak(true);
    await until('TIOCSBRK', async () => (await l.ioctls()).slice(before).some((c) => c.includes('TIOCSBRK')));
    await port.setBreak(false);
    await until('TIOCCBRK after TIOCSBRK', async () => {
      const calls = (await l.ioctls()).slice(before);
      const on = calls.findIndex((c) => c.includes('TIOCSBRK'));
      return on >= 0 && calls.slice(on + 1).some((c) => c.includes('TIOCCBRK'));
    });
    await port.write(Buffer.from('after'));
    expect((await l.far.readExactly(5)).toString()).toBe('after');
  });

  it('sends a plain IAC BREAK when RFC 2217 is off, which ser2net turns into tcsendbreak', async () => {
    const l = await line({ strace: true });
    const port = track(makePort(l.port, { rfc2217: false }));
    await port.open();
    const before = (await l.ioctls()).length;
    await port.setBreak(true);
    await port.setBreak(false);
    await until('TCSBRK', async () => (await l.ioctls()).slice(before).some((c) => c.includes('TCSBRK')));
    expect((await l.ioctls()).slice(before).some((c) => c.includes('TIOCSBRK'))).toBe(false);
  });

  it('sets the configured baud rate on the line through RFC 2217', async () => {
    const l = await line({ strace: true });
    const port = track(makePort(l.port, { baudRate: 9600 }));
    await port.open();
    await until('line set to 9600 baud', async () => (await l.ioctls()).some((c) => /TCSETS.*B9600/.test(c)));
  });

  it('falls back to IAC BREAK when the terminal server never answers RFC 2217', async () => {
    const received: Buffer[] = [];
    const tcp = await server((socket) => socket.on('data', (d: Buffer) => received.push(d)));
    const clock = new FakeClock();
    const port = track(makePort(tcp, {}, { clock, negotiationTimeoutMs: 2_000 }));
    let opened = false;
    const opening = port.open().then(() => (opened = true));
    while (!opened) {
      await clock.advance(250);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await opening;
    await port.setBreak(true);
    await until('IAC BRK', () => Buffer.concat(received).includes(Buffer.from([255, 243])));
  });

  it('pauses the connection while nobody reads, then delivers everything in order', async () => {
    const data = patternBytes(16 * 1024 * 1024);
    let peer: Socket | undefined;
    const tcp = await server((socket) => {
      peer = socket;
      socket.on('data', () => undefined);
      socket.write(escapeIac(data));
    });
    const port = track(makePort(tcp, { rfc2217: false }, { readQueueBytes: 16 * 1024 }));
    await port.open();
    await until('server started sending', () => peer !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Unread output stayed with the sender instead of piling up in the port.
    expect(peer?.writableLength ?? 0).toBeGreaterThan(0);
    const chunks: Buffer[] = [];
    for (let got = 0; got < data.length;) {
      const chunk = await port.read();
      chunks.push(chunk);
      got += chunk.length;
    }
    expect(Buffer.compare(Buffer.concat(chunks), data)).toBe(0);
  });
});
