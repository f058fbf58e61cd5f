import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { systemClock, type Clock, type Logger } from '@lifeline/shared';
import type { TerminalSize } from '../session/console-broker.js';
import { eventLine, headerLine, type AsciicastEventCode, type AsciicastHeader } from './asciicast.js';
import { LineFileWriter } from './line-file-writer.js';
import { recordingPath } from './recording-layout.js';
import type { RecorderFactory, RecordingStart, SessionRecorder } from './session-recorder.js';

export interface AsciicastRecorderOptions {
  /** Absolute `recordingsDir` (the caller resolves it from the config file's folder). */
  dir: string;
  logger: Logger;
  /** Event times are `clock.now() - startedAt`; tests pass a FakeClock. */
  clock?: Clock;
  /** Bytes one recording may have waiting for a slow disk before it drops events (default 256 KiB). */
  maxQueuedBytes?: number;
}

/** A SessionRecorder whose writes can be awaited (tests, and anyone who wants the file complete). */
export interface AsciicastSessionRecorder extends SessionRecorder {
  /** Resolves when every event so far is in the file (or given up on). Never rejects. */
  flush(): Promise<void>;
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const DEFAULT_SIZE: TerminalSize = { cols: 80, rows: 24 };

function validSize(size: TerminalSize | undefined): size is TerminalSize {
  return !!size && Number.isInteger(size.cols) && Number.isInteger(size.rows) && size.cols > 0 && size.rows > 0;
}

/**
 * Records each person session to its own asciicast v2 file under `dir` (layout in
 * recording-layout.ts, format in asciicast.ts). `open` waits for the folder and the file to be
 * created and the header queued, and never rejects: if the file cannot be made, the failure is
 * logged (`recording.error`) and the session gets a recorder that drops everything (path
 * undefined), because a console must work when its recording does not.
 */
export class AsciicastRecorderFactory implements RecorderFactory {
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly options: AsciicastRecorderOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'recorder' });
  }

  async open(start: RecordingStart): Promise<AsciicastSessionRecorder> {
    const path = recordingPath(this.options.dir, start);
    const logger = this.logger.child({ deviceId: start.deviceId, user: start.user, sessionId: start.sessionId, path });
    // Set before any line can be lost: the writer asks it to time-stamp gap lines.
    let recorder: FileSessionRecorder | undefined;
    try {
      await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
      const writer = await LineFileWriter.create(path, FILE_MODE, {
        maxQueuedBytes: this.options.maxQueuedBytes ?? 256 * 1024,
        gapLine: (lost) => recorder!.gapLine(lost),
        onLoss: (err) => logger.error({ event: 'recording.error', err }, 'recording is losing events; the session goes on'),
        onRecovered: (lost) => logger.warn({ event: 'recording.recovered', lost }, 'recording resumed after losing events'),
      });
      recorder = new FileSessionRecorder(path, writer, start, this.clock);
      return recorder;
    } catch (err) {
      logger.error({ event: 'recording.error', err }, 'cannot create the recording; the session goes on unrecorded');
      return unrecorded;
    }
  }
}

/** What a session gets when its file could not be created: drops everything. */
const unrecorded: AsciicastSessionRecorder = {
  output: () => {},
  input: () => {},
  resize: () => {},
  marker: () => {},
  close: async () => {},
  flush: async () => {},
  path: undefined,
};

class FileSessionRecorder implements AsciicastSessionRecorder {
  // One decoder per stream: a UTF-8 character split across two chunks of one stream is joined,
  // bytes that are not UTF-8 become U+FFFD (asciicast data is text, so binary is not byte-exact).
  private readonly outputText = new StringDecoder('utf8');
  private readonly inputText = new StringDecoder('utf8');
  private readonly startMs: number;
  private lastSeconds = 0;
  private closing: Promise<void> | undefined;

  constructor(
    readonly path: string,
    private readonly writer: LineFileWriter,
    start: RecordingStart,
    private readonly clock: Clock,
  ) {
    this.startMs = start.startedAt.getTime();
    const size = validSize(start.size) ? start.size : DEFAULT_SIZE;
    const header: AsciicastHeader = {
      version: 2,
      width: size.cols,
      height: size.rows,
      timestamp: Math.floor(this.startMs / 1000),
      title: `${start.user} on ${start.deviceId}`,
    };
    if (start.term) header.env = { TERM: start.term };
    writer.write(headerLine(header));
  }

  output(data: Buffer): void {
    if (!this.closing) this.text('o', this.outputText.write(data));
  }

  input(data: Buffer): void {
    if (!this.closing) this.text('i', this.inputText.write(data));
  }

  resize(size: TerminalSize): void {
    if (!this.closing && validSize(size)) this.event('r', `${size.cols}x${size.rows}`);
  }

  marker(label: string): void {
    if (!this.closing) this.event('m', label);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    if (!this.closing) {
      // Bytes of a character still waiting for the rest of it come out as U+FFFD.
      this.text('o', this.outputText.end());
      this.text('i', this.inputText.end());
      this.closing = this.writer.close();
    }
    return this.closing;
  }

  /** Says in the recording itself where events went missing (the writer calls this). */
  gapLine(lost: number): string {
    return eventLine(this.seconds(), 'm', `recording gap: ${lost} event${lost === 1 ? '' : 's'} lost`);
  }

  private text(code: 'o' | 'i', text: string): void {
    if (text !== '') this.event(code, text);
  }

  private event(code: AsciicastEventCode, data: string): void {
    this.writer.write(eventLine(this.seconds(), code, data));
  }

  /** Seconds since the start, never going backwards (players expect ordered times). */
  private seconds(): number {
    this.lastSeconds = Math.max(this.lastSeconds, (this.clock.now() - this.startMs) / 1000);
    return this.lastSeconds;
  }
}
