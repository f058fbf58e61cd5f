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
} from '@lifeline/shared/core';
import type { ConsolePort } from './console-port.js';
import { PortSessions, type Opening, type PortSession } from './port-session.js';

export interface TelnetConsolePortDeps {
  logger: Logger;
  clock?: Clock;
  /** How long `open()` waits for the TCP connection; TELNET_TIMEOUTS.connectMs unless a test says otherwise. */
  connectTimeoutMs?: number;
  /** How long `open()` waits for each RFC 2217 step (the option, then the baud rate answer); TELNET_TIMEOUTS.stepMs unless a test says otherwise. */
  negotiationTimeoutMs?: number;
  /** Device output held while nobody reads before the socket is paused (default 64 KiB). */
  readQueueBytes?: number;
}

/**
 * How long opening a terminal-server port may take: the TCP connection, then each RFC 2217 step.
 * Not configurable: a terminal server on the site LAN answers in milliseconds, and a console that
 * does not open is tried again every consoleRetryMs anyway.
 */
export const TELNET_TIMEOUTS = { connectMs: 5_000, stepMs: 2_000 } as const;

/** One connection to the terminal server. */
interface Connection {
  readonly socket: Socket;
  readonly telnet: TelnetEndpoint;
}

type Session = PortSession<Connection>;

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
  private readonly sessions: PortSessions<Connection>;

  constructor(
    private readonly config: TelnetConsoleConfig,
    deps: TelnetConsolePortDeps,
  ) {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    this.description = `terminal server ${host}:${config.port}`;
    this.logger = deps.logger.child({ component: 'telnet-console', host: config.host, port: config.port });
    this.clock = deps.clock ?? systemClock;
    this.connectTimeoutMs = deps.connectTimeoutMs ?? TELNET_TIMEOUTS.connectMs;
    this.negotiationTimeoutMs = deps.negotiationTimeoutMs ?? TELNET_TIMEOUTS.stepMs;
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
      const socket = await this.connect();
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      const session = this.startSession(opening, socket);
      if (this.config.rfc2217) await this.settleComPort(session);
      const ended = session.endedWith;
      if (ended?.code === 'CONSOLE_CANCELED') throw ended;
      if (ended) {
        // ser2net says why before it hangs up, e.g. "Port already in use".
        const said = printable(session.queue.takeQueued());
        throw new LifelineError(
          'CONSOLE_OPEN_FAILED',
          `${this.description} closed the connection while it was opened${said ? `: ${said}` : ''}`,
        );
      }
      this.logger.info({ rfc2217: session.resource.telnet.comPortActive }, 'terminal server connected');
    });
  }

  read(): Promise<Buffer> {
    return this.sessions.read();
  }

  async write(data: Buffer): Promise<void> {
    const session = this.sessions.active();
    if (data.length === 0) return;
    this.logger.trace({ bytes: data.length }, 'write');
    const { telnet } = session.resource;
    if (telnet.write(data)) return;
    if (session.endedWith) throw session.endedWith;
    // The socket holds more than its high-water mark: the caller waits, so it gets backpressure.
    await Promise.race([new Promise<void>((resolve) => telnet.once('drain', resolve)), session.ended]);
  }

  /**
   * With RFC 2217: BREAK ON / BREAK OFF, held as long as the caller waits in between. Without it:
   * a single IAC BREAK on `true` (the server picks the length), nothing on `false`. Never waits
   * for the server's answer: ser2net does not answer every SET-CONTROL.
   */
  async setBreak(on: boolean): Promise<void> {
    const { telnet } = this.sessions.active().resource;
    telnet.sendBreak(on ? 'on' : 'off');
    this.logger.debug({ on, rfc2217: telnet.comPortActive }, 'break');
  }

  close(): Promise<void> {
    return this.sessions.close();
  }

  private async release(session: Session, how: 'closed' | 'lost'): Promise<void> {
    const { socket } = session.resource;
    const closed = socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', resolve));
    socket.destroy();
    if (how === 'lost') return;
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

  private startSession(opening: Opening<Connection>, socket: Socket): Session {
    const telnet = new TelnetEndpoint(socket, { role: 'client', comPort: this.config.rfc2217, logger: this.logger });
    const session = opening.begin({ socket, telnet });
    const source = { pause: () => telnet.pause(), resume: () => telnet.resume() };
    telnet.on('data', (chunk) => {
      this.logger.trace({ bytes: chunk.length }, 'read');
      session.deliver(chunk, source);
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
    const { telnet } = session.resource;
    const active = await this.bounded(
      Promise.race([telnet.whenComPortSettled(), session.ended]).catch(() => false),
      false,
    );
    if (session.endedWith) return;
    if (!active) {
      this.logger.warn('terminal server did not agree to RFC 2217; BREAK falls back to IAC BREAK');
      return;
    }
    const answered = new Promise<boolean>((resolve) => {
      const onReply = (message: ComPortMessage): void => {
        if (message.command !== 'set-baudrate') return;
        telnet.off('comPort', onReply);
        resolve(true);
      };
      telnet.on('comPort', onReply);
      session.ended.catch(() => resolve(false));
    });
    telnet.sendComPort({ command: 'set-baudrate', value: this.config.baudRate ?? 0 });
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
    const reason = cause ? ` (${(cause.code && unreachable[cause.code]) ?? cause.message})` : '';
    this.sessions.lose(session, `${this.description} closed the connection${reason}`, cause);
  }

  private notReachable(reason: string, cause?: unknown): LifelineError {
    return new LifelineError('CONSOLE_NOT_PRESENT', `${this.description} is not reachable (${reason})`, { cause });
  }
}
