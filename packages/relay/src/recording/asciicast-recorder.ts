import { systemClock, type Clock, type Logger, type TimerHandle } from '@lifeline/shared/core';
import type { TerminalSize } from '../session/console-broker.js';
import { eventFrame, eventLine, headerLine, type AsciicastEventCode, type AsciicastHeader } from './asciicast.js';
import { DISK_RETRY_MS } from './bounded-file-writer.js';
import type { DiskGate } from './disk-gate.js';
import { JsonTextEncoder } from './json-text-encoder.js';
import { LineFileWriter, type WriterStatus } from './line-file-writer.js';
import { createWithFirstLine } from './recording-file.js';
import { recordingPath } from './recording-layout.js';
import type { RecorderFactory, RecordingStart, SessionRecorder } from './session-recorder.js';

export interface AsciicastRecorderOptions {
  /** Absolute `recordingsDir` (the caller resolves it from the config file's folder). */
  dir: string;
  logger: Logger;
  /** Event times are `clock.now() - startedAt`; tests pass a FakeClock. */
  clock?: Clock;
  /** Bytes one recording may have waiting for a slow disk before it drops events (`recording.queueBytes`). */
  maxQueuedBytes: number;
  /** Shared by every file the relay writes to its state disk (disk-gate.ts). */
  gate?: DiskGate;
  /** Pause before trying a failed creation or write again; DISK_RETRY_MS unless a test shortens it. */
  retryMs?: number;
  /** A file creation unanswered for this long is reported as stopped; RECORDING_STALL_MS unless a test says otherwise. */
  stallMs?: number;
  /** Output arriving within this long is joined into one `o` event; COALESCE.ms unless a test says otherwise. */
  coalesceMs?: number;
  /** ...up to this many bytes; COALESCE.bytes unless a test says otherwise. */
  coalesceBytes?: number;
}

/**
 * How long a recording's file may take to be created before the person is told it is not being
 * recorded. Not configurable: it is how long a person may work unrecorded without knowing, and
 * a healthy disk creates a file in milliseconds.
 */
export const RECORDING_STALL_MS = 5_000;

/**
 * Output joined into one `o` event: what arrives within 50 ms, up to 64 KiB. Not configurable:
 * 50 ms is below what a person sees in a replay, and it only trades CPU per byte on a busy console.
 */
export const COALESCE = { ms: 50, bytes: 64 * 1024 } as const;

/** A SessionRecorder whose writes can be awaited (tests, and anyone who wants the file complete). */
export interface AsciicastSessionRecorder extends SessionRecorder {
  /** Resolves when every event so far is in the file (or given up on for now). Never rejects. */
  flush(): Promise<void>;
}

const FILE_MODE = 0o600;
const DEFAULT_SIZE: TerminalSize = { cols: 80, rows: 24 };

function validSize(size: TerminalSize | undefined): size is TerminalSize {
  return !!size && Number.isInteger(size.cols) && Number.isInteger(size.rows) && size.cols > 0 && size.rows > 0;
}

/**
 * Records each person session to its own asciicast v2 file under `dir` (layout in
 * recording-layout.ts, format in asciicast.ts). `open` returns at once: the file is created in
 * the background with its header as one step (recording-file.ts), events wait for it within the
 * queue's bound, and the recorder reports through `start.onStatus` whether it is recording, at
 * the start and at every change (the file cannot be made, the disk filled up, space came back).
 * A console must work when its recording does not, and the person must know.
 */
export class AsciicastRecorderFactory implements RecorderFactory {
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly options: AsciicastRecorderOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'recorder' });
  }

  open(start: RecordingStart): AsciicastSessionRecorder {
    const path = recordingPath(this.options.dir, start);
    const logger = this.logger.child({ deviceId: start.deviceId, user: start.user, sessionId: start.sessionId, path });
    const header = Buffer.from(headerLine(asciicastHeader(start)), 'utf8');
    let recorder: FileSessionRecorder | undefined = undefined;
    const writer = new LineFileWriter({
      create: () => createWithFirstLine(path, FILE_MODE, header),
      maxQueuedBytes: this.options.maxQueuedBytes,
      gate: this.options.gate,
      clock: this.clock,
      retryMs: this.options.retryMs ?? DISK_RETRY_MS,
      stallMs: this.options.stallMs ?? RECORDING_STALL_MS,
      gapLine: (lost) => recorder!.gapLine(lost),
      onOverflow: (queuedBytes) =>
        logger.warn(
          { event: 'recording.overflow', queuedBytes },
          'the disk is not keeping up; recording events are dropped (marked as a gap)',
        ),
      onStatus: (status) => recorder!.statusChanged(status, logger),
    });
    recorder = new FileSessionRecorder(path, writer, start, this.clock, {
      coalesceMs: this.options.coalesceMs ?? COALESCE.ms,
      coalesceBytes: this.options.coalesceBytes ?? COALESCE.bytes,
    });
    return recorder;
  }
}

function asciicastHeader(start: RecordingStart): AsciicastHeader {
  const size = validSize(start.size) ? start.size : DEFAULT_SIZE;
  const header: AsciicastHeader = {
    version: 2,
    width: size.cols,
    height: size.rows,
    timestamp: Math.floor(start.startedAt.getTime() / 1000),
    title: `${start.user} on ${start.deviceId}`,
  };
  if (start.term) header.env = { TERM: start.term };
  return header;
}

class FileSessionRecorder implements AsciicastSessionRecorder {
  // One encoder per stream: a UTF-8 character split across two chunks of one stream is joined,
  // bytes that are not UTF-8 become U+FFFD (asciicast data is text, so binary is not byte-exact).
  private readonly outputText = new JsonTextEncoder();
  private readonly inputText = new JsonTextEncoder();
  private readonly startMs: number;
  private lastSeconds = 0;
  private closing: Promise<void> | undefined;
  /** Output not yet made into an event, and when its first byte came. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingSeconds = 0;
  private pendingTimer: TimerHandle | undefined;

  constructor(
    readonly path: string,
    private readonly writer: LineFileWriter,
    private readonly start: RecordingStart,
    private readonly clock: Clock,
    private readonly coalesce: { coalesceMs: number; coalesceBytes: number },
  ) {
    this.startMs = start.startedAt.getTime();
  }

  /**
   * Output is held up to `coalesceMs` (or `coalesceBytes`) and written as one event: a busy
   * console makes few large events instead of many small ones, which costs far less CPU per
   * byte. The chunk is kept by reference until then: callers must not reuse it.
   */
  output(data: Buffer): void {
    if (this.closing || data.length === 0) return;
    if (this.pending.length === 0) {
      this.pendingSeconds = this.seconds();
      this.pendingTimer = this.clock.setTimeout(() => this.flushOutput(), this.coalesce.coalesceMs);
    }
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= this.coalesce.coalesceBytes) this.flushOutput();
  }

  input(data: Buffer): void {
    if (this.closing) return;
    this.flushOutput();
    this.text('i', this.inputText, data, this.seconds());
  }

  resize(size: TerminalSize): void {
    if (this.closing || !validSize(size)) return;
    this.flushOutput();
    this.event('r', `${size.cols}x${size.rows}`);
  }

  marker(label: string): void {
    if (this.closing) return;
    this.flushOutput();
    this.event('m', label);
  }

  flush(): Promise<void> {
    this.flushOutput();
    return this.writer.flush();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.flushOutput();
      // Bytes of a character still waiting for the rest of it come out as U+FFFD.
      this.endText('o', this.outputText);
      this.endText('i', this.inputText);
      this.closing = this.writer.close();
    }
    return this.closing;
  }

  /** Says in the recording itself where events went missing (the writer calls this). */
  gapLine(lost: number): string {
    return eventLine(this.seconds(), 'm', `recording gap: ${lost} event${lost === 1 ? '' : 's'} lost`);
  }

  statusChanged(status: WriterStatus, logger: Logger): void {
    if (status.writing) {
      if (status.lost > 0) logger.warn({ event: 'recording.recovered', lost: status.lost }, 'recording resumed after losing events');
    } else {
      logger.error(
        { event: 'recording.error', reason: status.reason, err: status.error },
        'the recording is not being written; the session goes on',
      );
    }
    if (this.closing) return;
    this.start.onStatus?.(status.writing ? { recording: true, lost: status.lost } : { recording: false, reason: status.reason });
  }

  private flushOutput(): void {
    if (this.pending.length === 0) return;
    this.pendingTimer?.cancel();
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.text('o', this.outputText, data, this.pendingSeconds);
  }

  /**
   * Encodes an event only when the writer has room for it: the encoded line is at least as long
   * as the bytes, so a full queue costs no encoding. A dropped chunk resets the stream's encoder
   * (a character cut by the gap becomes U+FFFD, not a wrong character).
   */
  private text(code: 'o' | 'i', encoder: JsonTextEncoder, data: Buffer, seconds: number): void {
    if (!this.writer.hasRoomFor(data.length)) {
      encoder.reset();
      this.writer.drop();
      return;
    }
    const line = encoder.encode(data, eventFrame(seconds, code));
    if (line.length > 0) this.writer.write(line);
  }

  private endText(code: 'o' | 'i', encoder: JsonTextEncoder): void {
    const line = encoder.end(eventFrame(this.seconds(), code));
    if (line.length > 0) this.writer.write(line);
  }

  private event(code: AsciicastEventCode, data: string): void {
    this.writer.write(Buffer.from(eventLine(this.seconds(), code, data), 'utf8'));
  }

  /** Seconds since the start, never going backwards (players expect ordered times). */
  private seconds(): number {
    this.lastSeconds = Math.max(this.lastSeconds, (this.clock.now() - this.startMs) / 1000);
    return this.lastSeconds;
  }
}
