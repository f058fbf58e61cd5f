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
}

/** Opens a recorder per session; `discardRecorders` when recording is off or in tests. */
export interface RecorderFactory {
  open(start: RecordingStart): Promise<SessionRecorder>;
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
export const discardRecorders: RecorderFactory = { open: async () => discardRecorder };
