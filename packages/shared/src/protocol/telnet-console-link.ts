import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { ConsoleStatus } from './console-status.js';
import type { WriterRefusal } from './writer-token.js';
import { TelnetEndpoint } from './telnet-endpoint.js';
import type { BreakAction, TelnetRole } from './telnet-endpoint-types.js';

/**
 * One console stream through an agent's tunnel, as each side holds it (docs/protocol.md): the
 * relay is the Telnet client with RFC 2217 (TelnetConsoleClient), the agent the server, as
 * ser2net would be (TelnetConsoleServer). Both sides share this: a TelnetEndpoint over the
 * stream, data and backpressure, and one close notification however the stream ends (end, close
 * or error), so the two sides cannot drift apart.
 */
abstract class TelnetConsoleLink {
  protected readonly telnet: TelnetEndpoint;
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];

  protected constructor(stream: Duplex, role: TelnetRole, logger: Logger) {
    const log = logger.child({ component: 'console-stream' });
    this.telnet = new TelnetEndpoint(stream, { role, comPort: true, writerFence: true, logger: log });
    this.telnet.on('close', () => this.closedNow());
    this.telnet.on('end', () => {
      // The peer finished sending: finish ours too (half-close), the stream is done.
      this.telnet.end();
      this.closedNow();
    });
    this.telnet.on('error', (err) => {
      log.warn({ event: 'console.stream.error', err: err.message }, 'console stream error');
      this.closedNow();
    });
  }

  /** Console bytes to the peer (IAC doubled). Returns false when the stream is full; wait for `onceDrain`. */
  write(data: Buffer): boolean {
    return this.telnet.write(data);
  }

  onceDrain(listener: () => void): void {
    this.telnet.once('drain', listener);
  }

  /** Console bytes from the peer, unescaped. */
  onData(listener: (chunk: Buffer) => void): void {
    this.telnet.on('data', listener);
  }

  /** Stop / restart delivering the peer's bytes (backpressure towards the peer). */
  pause(): void {
    this.telnet.pause();
  }

  resume(): void {
    this.telnet.resume();
  }

  /** Called once when the stream ends for any reason; at once when it already has. */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  close(): void {
    this.telnet.destroy();
    this.closedNow();
  }

  private closedNow(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.closeListeners) listener();
  }
}

/** The relay's end of a console stream: the Telnet client, offering RFC 2217 for BREAK. */
export class TelnetConsoleClient extends TelnetConsoleLink {
  constructor(stream: Duplex, logger: Logger) {
    super(stream, 'client', logger);
  }

  /** Raises or clears BREAK on the device's line (RFC 2217 SET-CONTROL; IAC BRK without it). */
  setBreak(on: boolean): void {
    this.telnet.sendBreak(on ? 'on' : 'off');
  }

  /** The console state the agent reports (LIFELINE-STATUS); the latest is kept for a late listener. */
  onStatus(listener: (status: ConsoleStatus) => void): void {
    this.telnet.on('status', listener);
  }

  /**
   * Tells the agent this relay holds the group's writer lease of the device with `token`
   * (LIFELINE-WRITER); false when the agent does not fence (an older agent refused the option).
   */
  claimWriter(token: bigint): boolean {
    return this.telnet.sendWriterClaim(token);
  }

  /** The agent refused what this stream sent: another relay holds a larger token. */
  onWriterRefusal(listener: (refusal: WriterRefusal) => void): void {
    this.telnet.on('writerRefusal', listener);
  }
}

/** The agent's end of a console stream: the Telnet server, answering RFC 2217 as ser2net would. */
export class TelnetConsoleServer extends TelnetConsoleLink {
  constructor(stream: Duplex, logger: Logger) {
    super(stream, 'server', logger);
  }

  /** Tells the relay (and the people attached) what state the console is in. */
  sendStatus(status: ConsoleStatus): void {
    this.telnet.sendStatus(status);
  }

  /** 'on'/'off' from RFC 2217 SET-CONTROL, 'pulse' from a plain Telnet IAC BREAK. */
  onBreak(listener: (action: BreakAction) => void): void {
    this.telnet.on('break', listener);
  }

  /** The relay holds the group's writer lease with this token; in its place among the data. */
  onWriterClaim(listener: (token: bigint) => void): void {
    this.telnet.on('writerClaim', listener);
  }

  /** Tells the relay its input was refused by the writer fence; false when it does not speak LIFELINE-WRITER. */
  refuseWriter(refusal: WriterRefusal): boolean {
    return this.telnet.sendWriterRefusal(refusal);
  }
}
