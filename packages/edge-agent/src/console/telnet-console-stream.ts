import type { Duplex } from 'node:stream';
import { TelnetEndpoint, type Logger } from '@lifeline/shared';
import type { ConsoleStream } from './console-stream.js';

/**
 * A console stream from the relay (a forwarded-tcpip channel), spoken as a Telnet server with
 * RFC 2217, as ser2net would (docs/protocol.md).
 */
export class TelnetConsoleStream implements ConsoleStream {
  private readonly telnet: TelnetEndpoint;
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(stream: Duplex, logger: Logger) {
    this.telnet = new TelnetEndpoint(stream, { role: 'server', comPort: true, logger: logger.child({ component: 'console-stream' }) });
    this.telnet.on('close', () => this.closedNow());
    this.telnet.on('end', () => {
      this.telnet.end();
      this.closedNow();
    });
    this.telnet.on('error', (err) => {
      logger.warn({ event: 'console.stream.error', err: err.message }, 'console stream error');
      this.closedNow();
    });
  }

  write(data: Buffer): boolean {
    return this.telnet.write(data);
  }

  onceDrain(listener: () => void): void {
    this.telnet.once('drain', listener);
  }

  sendStatus(status: Parameters<ConsoleStream['sendStatus']>[0]): void {
    this.telnet.sendStatus(status);
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.telnet.on('data', listener);
  }

  onBreak(listener: (action: 'on' | 'off' | 'pulse') => void): void {
    this.telnet.on('break', listener);
  }

  pause(): void {
    this.telnet.pause();
  }

  resume(): void {
    this.telnet.resume();
  }

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
