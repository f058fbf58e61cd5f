import { connect, type Socket } from 'node:net';
import {
  LifelineError,
  TelnetEndpoint,
  systemClock,
  type Clock,
  type ComPortMessage,
  type Logger,
  type TelnetConsoleConfig,
  printable,
} from '@lifeline/shared';
import { ChunkQueue } from './chunk-queue.js';
import type { ConsolePort } from './console-port.js';

export interface TelnetConsolePortDeps {
  logger: Logger;
  clock?: Clock;
  /** How long `open()` waits for the TCP connection (default 5 s). */
  connectTimeoutMs?: number;
  /** How long `open()` waits for each RFC 2217 step: the option, then the baud rate answer (default 2 s). */
  negotiationTimeoutMs?: number;
  /** Device output held while nobody reads before the socket is paused (default 64 KiB). */
  readQueueBytes?: number;
}

/** One connection to the terminal server: its socket, read queue, and how it ended. */
interface Session {
  readonly socket: Socket;
  readonly telnet: TelnetEndpoint;
  readonly queue: ChunkQueue;
  /** Set once closed or lost: what every later read, write and break rejects with. */
  ended: LifelineError | undefined;
  /** Rejects with `ended`, so a write waiting for drain gives up when the connection goes. */
  readonly endedPromise: Promise<never>;
  rejectEnded(err: LifelineError): void;
}

/** Socket errors on connect that mean "nobody there", with the words a person reads. */
const unreachable: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name not found',
};

/**
 * A console behind a terminal server (or ser2net) on the site LAN, reached over Telnet: binary
 * mode, and RFC 2217 for BREAK when the config asks for it and the server agrees; a plain
 * IAC BREAK otherwise. Device output waits in a bounded queue; while it is full the socket is
 * paused, so TCP flow control holds the rest.
 */
export class TelnetConsolePort implements ConsolePort {
  readonly description: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly connectTimeoutMs: number;
  private readonly negotiationTimeoutMs: number;
  private readonly readQueueBytes: number;
  private session: Session | undefined;
  /** The session that ended last, so reads and writes after a loss say DISCONNECTED, not CANCELED. */
  private previous: Session | undefined;
  private opening = false;

  constructor(
    private readonly config: TelnetConsoleConfig,
    deps: TelnetConsolePortDeps,
  ) {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    this.description = `terminal server ${host}:${config.port}`;
    this.logger = deps.logger.child({ component: 'telnet-console', host: config.host, port: config.port });
    this.clock = deps.clock ?? systemClock;
    this.connectTimeoutMs = deps.connectTimeoutMs ?? 5_000;
    this.negotiationTimeoutMs = deps.negotiationTimeoutMs ?? 2_000;
    this.readQueueBytes = deps.readQueueBytes ?? 64 * 1024;
  }

  get isOpen(): boolean {
    return this.session !== undefined;
  }

  async open(): Promise<void> {
    if (this.session || this.opening) throw new Error(`${this.description} is already open`);
    this.opening = true;
    try {
      const socket = await this.connect();
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      const session = this.startSession(socket);
      if (this.config.rfc2217) await this.settleComPort(session);
      if (session.ended) {
        // ser2net says why before it hangs up, e.g. "Port already in use".
        const said = printable(session.queue.takeQueued());
        this.previous = undefined;
        throw new LifelineError('CONSOLE_OPEN_FAILED', `${this.description} closed the connection while it was opened${said ? `: ${said}` : ''}`);
      }
      this.logger.info({ rfc2217: session.telnet.comPortActive }, 'terminal server connected');
    } finally {
      this.opening = false;
    }
  }

  read(): Promise<Buffer> {
    const session = this.session ?? this.previous;
    if (!session) return Promise.reject(this.canceled());
    return session.queue.next();
  }

  async write(data: Buffer): Promise<void> {
    const session = this.session;
    if (!session) throw this.previous?.ended ?? this.canceled();
    if (session.ended) throw session.ended;
    if (data.length === 0) return;
    this.logger.trace({ bytes: data.length }, 'write');
    if (session.telnet.write(data)) return;
    if (session.ended) throw session.ended;
    // The socket holds more than its high-water mark: the caller waits, so it gets backpressure.
    await Promise.race([new Promise<void>((resolve) => session.telnet.once('drain', resolve)), session.endedPromise]);
  }

  /**
   * With RFC 2217: BREAK ON / BREAK OFF, held as long as the caller waits in between. Without it:
   * a single IAC BREAK on `true` (the server picks the length), nothing on `false`. Never waits
   * for the server's answer: ser2net does not answer every SET-CONTROL.
   */
  async setBreak(on: boolean): Promise<void> {
    const session = this.session;
    if (!session) throw this.previous?.ended ?? this.canceled();
    if (session.ended) throw session.ended;
    session.telnet.sendBreak(on ? 'on' : 'off');
    this.logger.debug({ on, rfc2217: session.telnet.comPortActive }, 'break');
  }

  async close(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.end(session, this.canceled(), { discard: true });
    const closed = session.socket.closed ? Promise.resolve() : new Promise((resolve) => session.socket.once('close', resolve));
    session.socket.destroy();
    await closed;
    this.logger.info('terminal server connection closed');
  }

  private connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.config.host, port: this.config.port });
      const timer = this.clock.setTimeout(() => {
        socket.destroy();
        reject(this.notReachable(`no answer within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      socket.once('connect', () => {
        timer.cancel();
        socket.removeListener('error', onError);
        resolve(socket);
      });
      const onError = (err: NodeJS.ErrnoException): void => {
        timer.cancel();
        socket.destroy();
        const reason = err.code ? unreachable[err.code] : undefined;
        if (reason) reject(this.notReachable(reason, err));
        else reject(new LifelineError('CONSOLE_OPEN_FAILED', `cannot connect to ${this.description} (${err.message})`, { cause: err }));
      };
      socket.once('error', onError);
    });
  }

  private startSession(socket: Socket): Session {
    const telnet = new TelnetEndpoint(socket, { role: 'client', comPort: this.config.rfc2217, logger: this.logger });
    let rejectEnded!: (err: LifelineError) => void;
    const endedPromise = new Promise<never>((_, reject) => (rejectEnded = reject));
    endedPromise.catch(() => undefined);
    const session: Session = { socket, telnet, queue: new ChunkQueue(this.readQueueBytes), ended: undefined, endedPromise, rejectEnded };
    this.session = session;

    let paused = false;
    telnet.on('data', (chunk) => {
      this.logger.trace({ bytes: chunk.length }, 'read');
      session.queue.push(chunk);
      if (paused || session.queue.hasRoom) return;
      paused = true;
      telnet.pause();
      session.queue.room().then(
        () => {
          paused = false;
          telnet.resume();
        },
        () => undefined,
      );
    });
    telnet.on('status', (status) => this.logger.debug({ status }, 'terminal server reported a status'));
    telnet.on('end', () => this.lose(session));
    telnet.on('close', () => this.lose(session));
    telnet.on('error', (err) => this.lose(session, err));
    return session;
  }

  /**
   * Waits (bounded) for the server to accept or refuse RFC 2217, so setBreak knows which to send;
   * then sets (or asks for) the baud rate and waits for the answer. ser2net answers only once it
   * has the line open, which may be after the Telnet negotiation (it first drops a user it kicks
   * out): bytes the device sends after open() resolved then reach this connection.
   */
  private async settleComPort(session: Session): Promise<void> {
    const active = await this.bounded(session.telnet.whenComPortSettled(), false);
    if (session.ended) return;
    if (!active) {
      this.logger.warn('terminal server did not agree to RFC 2217; BREAK falls back to IAC BREAK');
      return;
    }
    const answered = new Promise<boolean>((resolve) => {
      const onReply = (message: ComPortMessage): void => {
        if (message.command !== 'set-baudrate') return;
        session.telnet.off('comPort', onReply);
        resolve(true);
      };
      session.telnet.on('comPort', onReply);
      session.endedPromise.catch(() => resolve(false));
    });
    session.telnet.sendComPort({ command: 'set-baudrate', value: this.config.baudRate ?? 0 });
    if (!(await this.bounded(answered, false))) this.logger.debug('terminal server did not answer SET-BAUDRATE');
  }

  private async bounded<T>(promise: Promise<T>, fallback: T): Promise<T> {
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<T>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(fallback), this.negotiationTimeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      timer?.cancel();
    }
  }

  /** The terminal server went away: output read before the loss is still delivered, then CONSOLE_DISCONNECTED. */
  private lose(session: Session, cause?: NodeJS.ErrnoException): void {
    if (session.ended) return;
    const reason = cause ? ` (${(cause.code && unreachable[cause.code]) ?? cause.message})` : '';
    const message = `${this.description} closed the connection${reason}`;
    this.logger.warn({ err: cause }, message);
    this.end(session, new LifelineError('CONSOLE_DISCONNECTED', message, { cause }), {});
    session.socket.destroy();
  }

  private end(session: Session, reason: LifelineError, options: { discard?: boolean }): void {
    session.ended = reason;
    session.queue.end(reason, options);
    session.rejectEnded(reason);
    if (this.session === session) this.session = undefined;
    this.previous = session;
  }

  private notReachable(reason: string, cause?: unknown): LifelineError {
    return new LifelineError('CONSOLE_NOT_PRESENT', `${this.description} is not reachable (${reason})`, { cause });
  }

  private canceled(): LifelineError {
    return new LifelineError('CONSOLE_CANCELED', `${this.description} is closed`);
  }
}

