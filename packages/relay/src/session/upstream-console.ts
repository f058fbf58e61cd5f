import type { ConsoleStatus, WriterRefusal } from '@lifeline/shared/core';

export type { ConsoleStatus } from '@lifeline/shared/core';

/**
 * The relay's end of one device's console stream through the agent's tunnel. The hub only sees
 * this; telnet-upstream.ts provides it: shared's TelnetConsoleClient
 * over the Telnet/RFC 2217 stream.
 */
export interface UpstreamConsole {
  /** Bytes for the device. Returns false when the stream is full; wait for `onceDrain`. */
  write(data: Buffer): boolean;
  onceDrain(listener: () => void): void;
  /** Raises or clears BREAK on the device's line; the caller times the break. */
  setBreak(on: boolean): void;
  /** Stop / restart delivering output (backpressure from a slow writer). */
  pause(): void;
  resume(): void;
  onData(listener: (chunk: Buffer) => void): void;
  onStatus(listener: (status: ConsoleStatus) => void): void;
  /**
   * Tells the agent this relay holds the group's writer lease with `token` (LIFELINE-WRITER);
   * false when the agent does not fence. Absent where there is no such stream (test doubles).
   */
  claimWriter?(token: bigint): boolean;
  /** The agent refused what this relay sent: another relay holds a larger token. */
  onWriterRefusal?(listener: (refusal: WriterRefusal) => void): void;
  /** Called once when the stream ends for any reason. */
  onClose(listener: () => void): void;
  close(): void;
}
