import type { ConsoleStatus } from '@lifeline/shared/core';

/**
 * The agent's end of one console stream from the relay (a forwarded-tcpip channel speaking
 * Telnet/RFC 2217: shared's TelnetConsoleServer). The console service only sees this.
 */
export interface ConsoleStream {
  /** Device output towards the relay. Returns false when full; wait for `onceDrain`. */
  write(data: Buffer): boolean;
  onceDrain(listener: () => void): void;
  /** Tells the relay (and the people attached) what state the console is in. */
  sendStatus(status: ConsoleStatus): void;
  /** Bytes for the device. Pause while the console port is busy writing them. */
  onData(listener: (chunk: Buffer) => void): void;
  /** 'on'/'off' from RFC 2217 SET-CONTROL, 'pulse' from a plain Telnet IAC BREAK. */
  onBreak(listener: (action: 'on' | 'off' | 'pulse') => void): void;
  pause(): void;
  resume(): void;
  onClose(listener: () => void): void;
  close(): void;
}
