import { LifelineError, type Logger, type SerialConsoleConfig } from '@lifeline/shared/core';
import type { ConsolePort } from './console-port.js';
import { PortSessions, type PortSession } from './port-session.js';
import { platformSerialBinding, type SerialBinding, type SerialBindingPort, type SerialOpenOptions } from './serial-binding.js';
import { diagnoseOpenFailure, messageOf, readWriteAccess, type AccessCheck } from './serial-open-error.js';
import { readSerial } from './serial-read.js';

export interface SerialConsolePortDeps {
  logger: Logger;
  /** Default: the platform binding `serialport` uses. */
  binding?: SerialBinding;
  /** How a failed open tells "absent" from "no permission"; default fs.access(R_OK | W_OK). */
  access?: AccessCheck;
  /** Device output held while nobody reads before the port stops reading (default 64 KiB). */
  readQueueBytes?: number;
}

/** DTR and RTS as the OS raises them on open; bindings-cpp's set() rewrites both on every call. */
interface ModemLines {
  dtr: boolean;
  rts: boolean;
}

/** What one open of the port holds. */
interface OpenPort {
  readonly handle: SerialBindingPort;
  /** False on a tty without modem lines (a pty): set() then always fails after the break ioctl. */
  readonly modemLines: boolean;
  readonly lines: ModemLines;
  /** Reads from the device into the session's queue until it ends. */
  pump: Promise<void>;
}

type Session = PortSession<OpenPort>;

const readChunkBytes = 16 * 1024;

/**
 * A console on a local serial port (a USB serial adapter), through node-serialport's binding
 * layer (@serialport/bindings-cpp, via `serialport` 13) rather than the SerialPort stream: the
 * binding is already promise-based with one read/write at a time, which maps onto ConsolePort
 * without stream events, and it can be swapped for the mock binding in tests.
 *
 * Reads run ahead into a bounded queue and stop while it is full, so the kernel's buffer (and the
 * device's flow control) holds the rest. Writes resolve once the OS has taken the bytes.
 */
export class SerialConsolePort implements ConsolePort {
  readonly description: string;
  private readonly logger: Logger;
  private readonly binding: SerialBinding;
  private readonly access: AccessCheck;
  private readonly sessions: PortSessions<OpenPort>;

  constructor(
    private readonly config: SerialConsoleConfig,
    deps: SerialConsolePortDeps,
  ) {
    this.description = `serial port ${config.path}`;
    this.logger = deps.logger.child({ component: 'serial-console', path: config.path });
    this.binding = deps.binding ?? platformSerialBinding();
    this.access = deps.access ?? readWriteAccess;
    this.sessions = new PortSessions({
      description: this.description,
      logger: this.logger,
      ...(deps.readQueueBytes ? { readQueueBytes: deps.readQueueBytes } : {}),
      release: (session, how) => this.release(session, how),
    });
  }

  get isOpen(): boolean {
    return this.sessions.isOpen;
  }

  open(): Promise<void> {
    return this.sessions.open(async (opening) => {
      const options = openOptions(this.config);
      let handle: SerialBindingPort;
      try {
        handle = await this.binding.open(options);
      } catch (err) {
        throw await diagnoseOpenFailure(this.config.path, err, this.access);
      }
      const modemLines = await handle.get().then(
        () => true,
        () => false,
      );
      const session = opening.begin({ handle, modemLines, lines: { dtr: true, rts: true }, pump: Promise.resolve() });
      session.resource.pump = this.pump(session);
      this.logger.info({ baudRate: this.config.baudRate, modemLines }, 'serial port open');
    });
  }

  read(): Promise<Buffer> {
    return this.sessions.read();
  }

  async write(data: Buffer): Promise<void> {
    const session = this.sessions.active();
    // The binding allows one write at a time; callers may overlap theirs.
    return session.serialize(() => this.writeNow(session, data));
  }

  /**
   * bindings-cpp's set() issues TIOCSBRK/TIOCCBRK and then TIOCMSET for DTR/RTS, filling in
   * `dtr: true, rts: true` for lines not given; so the lines are always passed as last set. A tty
   * without modem lines (a pty) fails that TIOCMSET with ENOTTY after the break ioctl has already
   * run, and bindings-cpp offers no break-only call: on such a port that one failure is expected.
   */
  async setBreak(on: boolean): Promise<void> {
    const session = this.sessions.active();
    const { handle, lines, modemLines } = session.resource;
    try {
      await handle.set({ brk: on, dtr: lines.dtr, rts: lines.rts });
    } catch (err) {
      if (session.endedWith) throw session.endedWith;
      if (!modemLines && isNotATty(err)) {
        this.logger.debug({ on }, 'break ioctl issued; this port has no modem lines to set');
        return;
      }
      throw new LifelineError('CONSOLE_BREAK_FAILED', `${this.description}: cannot ${on ? 'send' : 'clear'} a break (${messageOf(err)})`, {
        cause: err,
      });
    }
    this.logger.debug({ on }, 'break');
  }

  close(): Promise<void> {
    return this.sessions.close();
  }

  private async release(session: Session, how: 'closed' | 'lost'): Promise<void> {
    const { handle, pump } = session.resource;
    if (how === 'lost') return void (await handle.close().catch(() => undefined));
    await handle.close().catch((err: unknown) => this.logger.debug({ err }, 'close failed'));
    await pump;
    this.logger.info('serial port closed');
  }

  private async pump(session: Session): Promise<void> {
    const buffer = Buffer.allocUnsafe(readChunkBytes);
    try {
      for (;;) {
        await session.queue.room();
        const n = await readSerial(session.resource.handle, buffer);
        this.logger.trace({ bytes: n }, 'read');
        // Copied: a small chunk must not pin the whole read buffer while it waits in the queue.
        session.queue.push(Buffer.from(buffer.subarray(0, n)));
      }
    } catch (err) {
      // The adapter went away: output read before the loss is still delivered, then CONSOLE_DISCONNECTED.
      if (!session.endedWith) this.sessions.lose(session, `${this.description} was disconnected`, err);
    }
  }

  private async writeNow(session: Session, data: Buffer): Promise<void> {
    if (data.length === 0) return;
    try {
      await session.resource.handle.write(data);
      this.logger.trace({ bytes: data.length }, 'wrote');
    } catch (err) {
      if (session.endedWith) throw session.endedWith;
      if (isLineGone(err)) {
        this.sessions.lose(session, `${this.description} was disconnected`, err);
        throw session.endedWith ?? err;
      }
      throw new LifelineError('CONSOLE_WRITE_FAILED', `${this.description}: write failed (${messageOf(err)})`, { cause: err });
    }
  }
}

function openOptions(config: SerialConsoleConfig): SerialOpenOptions {
  if (config.parity === 'mark' || config.parity === 'space') {
    throw new LifelineError('CONSOLE_OPEN_FAILED', `serial port ${config.path}: ${config.parity} parity is not supported on this platform`);
  }
  return {
    path: config.path,
    baudRate: config.baudRate,
    dataBits: config.dataBits,
    stopBits: config.stopBits,
    parity: config.parity,
    rtscts: config.flowControl === 'rtscts',
    xon: config.flowControl === 'xonxoff',
    xoff: config.flowControl === 'xonxoff',
    lock: true,
  };
}

/**
 * ENOTTY from the modem-line ioctl. bindings-cpp gives only strerror text, no code:
 * glibc says "Inappropriate ioctl for device", musl "Not a tty".
 */
function isNotATty(err: unknown): boolean {
  return /inappropriate ioctl|not a tty/i.test(messageOf(err));
}

/** Write errors that mean the device is gone (a hung-up tty gives EIO; bindings-cpp flags the rest). */
function isLineGone(err: unknown): boolean {
  const e = err as { code?: string; disconnect?: boolean } | undefined;
  return e?.disconnect === true || e?.code === 'EIO' || e?.code === 'ENXIO' || e?.code === 'ENODEV' || e?.code === 'EBADF';
}
