import type { ConsoleStatus, WriterRefusal } from '@lifeline/shared/core';

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
  /** The relay holds the group's writer lease with this token (LIFELINE-WRITER), in its place among the data. */
  onWriterClaim(listener: (token: bigint) => void): void;
  /** Tells the relay what it sent was refused by the writer fence; false when it does not speak LIFELINE-WRITER. */
  refuseWriter(refusal: WriterRefusal): boolean;
  pause(): void;
  resume(): void;
  onClose(listener: () => void): void;
  close(): void;
}
