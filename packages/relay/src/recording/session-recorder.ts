import type { TerminalSize } from '../session/console-broker.js';

/**
 * What a console session's recording is told, in order, as it happens. One recorder per person
 * session (its file's title names that person and the device). Implementations must never
 * throw into the caller and never make it wait: a full disk loses recording events (logged),
 * not the console.
 */
export interface SessionRecorder {
  /** Bytes the device sent (what the person saw). */
  output(data: Buffer): void;
  /** Bytes the person typed; called only when the relay records input (off by default). */
  input(data: Buffer): void;
  resize(size: TerminalSize): void;
  /** A moment worth finding later: BREAK, takeover, disconnect, console status, ... */
  marker(label: string): void;
  /** Finishes the file. Idempotent. */
  close(): Promise<void>;
  /** Where the recording goes (for the audit log), or undefined for the discard recorder. */
  readonly path: string | undefined;
}

export interface RecordingStart {
  deviceId: string;
  user: string;
  sessionId: string;
  /** From the person's pty-req; 80x24 when the session has no pty. */
  size: TerminalSize;
  /** TERM from the pty-req, for the asciicast header's env. */
  term: string | undefined;
  startedAt: Date;
  /**
   * Told when the recording starts or stops taking events, so the person can be told (see
   * session/recording-status.ts). The first call says whether the file could be made; later calls
   * come only on a change. Never called after `close()`.
   */
  onStatus?(status: RecordingStatus): void;
}

/** Whether a recording is taking events; `reason` is in words fit to show the person. */
export type RecordingStatus = { recording: true; lost: number } | { recording: false; reason: string };

/**
 * Opens a recorder per session; `discardRecorders` when recording is off or in tests. `open`
 * returns at once and never throws: the file is made in the background (a slow or frozen disk
 * must not hold up a console), and whether that worked comes through `start.onStatus`.
 */
export interface RecorderFactory {
  open(start: RecordingStart): SessionRecorder;
}

/** Records nothing: stands in when a recording is off or cannot be opened. */
export const discardRecorder: SessionRecorder = {
  output: () => {},
  input: () => {},
  resize: () => {},
  marker: () => {},
  close: async () => {},
  path: undefined,
};

/** Stands in when recording is off, so callers never branch on a flag (as Teleport does). */
export const discardRecorders: RecorderFactory = { open: () => discardRecorder };
