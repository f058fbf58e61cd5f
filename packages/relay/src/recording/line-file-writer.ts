import type { FileHandle } from 'node:fs/promises';
import type { Clock } from '@lifeline/shared/core';
import { BoundedFileWriter, type FileSink, type Gap } from './bounded-file-writer.js';
import type { DiskGate } from './disk-gate.js';
import { diskProblem, type CreatedFile } from './recording-file.js';

/*
 * A recording's file on the relay's one bounded writer (bounded-file-writer.ts: ordered, queue
 * bounded in bytes, drops counted and marked, retried after `retryMs`). What is the recording's
 * own: the file is created in the background with its first line (`create`, so the file never
 * exists without it), every write carries whole lines at an explicit position (a relay killed
 * with SIGKILL leaves whole lines), and a write that fails part-way (ENOSPC, EFBIG) is cut back
 * to the end of the last whole line.
 */

/** Whether the file is taking lines; `reason` says why not, in words fit for a person. */
export type WriterStatus = { writing: true; lost: number } | { writing: false; reason: string; error?: Error };

export interface LineFileWriterOptions {
  /** Creates the file with its first line (recording-file.ts); rejects with the fs error. */
  create(): Promise<CreatedFile>;
  /** Bytes allowed to wait for the disk (the write in flight included); past this, lines are dropped. */
  maxQueuedBytes: number;
  /** The line to put where `lost` lines went missing (the writer knows nothing of the format). */
  gapLine(lost: number): string;
  /**
   * The file stopped or started taking lines: `{writing: false}` when creating or writing it
   * fails (or the creation has not answered within `stallMs`), `{writing: true, lost}` when it
   * takes lines again (and once when it is first created, with lost 0).
   */
  onStatus(status: WriterStatus): void;
  /** Lines were dropped because the disk did not keep up (first of a streak only). */
  onOverflow(heldBytes: number): void;
  gate?: DiskGate;
  clock?: Clock;
  /** Pause before trying a failed creation or write again. */
  retryMs: number;
  /** A creation still unanswered after this long counts as stopped. */
  stallMs: number;
}

/** Appends whole lines to a new file, in order, without ever blocking or throwing at the caller. */
export class LineFileWriter {
  private readonly writer: BoundedFileWriter;
  private closing: Promise<void> | undefined;

  constructor(options: LineFileWriterOptions) {
    this.writer = new BoundedFileWriter({
      sink: new LineFile(
        () => options.create(),
        (lost) => options.gapLine(lost),
      ),
      maxQueuedBytes: options.maxQueuedBytes,
      retryMs: options.retryMs,
      stallMs: options.stallMs,
      openAtStart: true,
      gate: options.gate,
      clock: options.clock,
      onOverflow: (heldBytes) => options.onOverflow(heldBytes),
      onStatus: (status) =>
        options.onStatus(
          status.writing
            ? status
            : status.error
              ? { writing: false, reason: diskProblem(status.error), error: status.error }
              : { writing: false, reason: 'the recordings disk does not answer' },
        ),
    });
  }

  /** Whether a line of at least `bytes` would be queued now (so the caller can skip encoding it). */
  hasRoomFor(bytes: number): boolean {
    return this.writer.hasRoomFor(bytes);
  }

  /** Counts one line as lost without queuing it (the caller found no room for it). */
  drop(): void {
    this.writer.drop(1);
  }

  /** Queues one line, UTF-8 (must end in `\n`). Ignored after close. */
  write(line: Buffer): void {
    this.writer.write(line, 1);
  }

  /** Resolves once every line queued so far has been written or given up on for now. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Writes what is queued (one last try, even while waiting to retry), then closes. Idempotent; never rejects. */
  close(): Promise<void> {
    this.closing ??= this.writer.close().then(() => {});
    return this.closing;
  }
}

/** A file made with its first line, appended to at explicit positions, cut back to whole lines on failure. */
class LineFile implements FileSink {
  private file: FileHandle | undefined;
  private position = 0;

  constructor(
    private readonly create: () => Promise<CreatedFile>,
    private readonly gapText: (lost: number) => string,
  ) {}

  get isOpen(): boolean {
    return this.file !== undefined;
  }

  async open(): Promise<void> {
    const created = await this.create();
    this.file = created.file;
    this.position = created.position;
  }

  async write(data: Buffer): Promise<void> {
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await this.file!.write(data, done, data.length - done, this.position + done);
        done += bytesWritten;
      }
      this.position += data.length;
    } catch (err) {
      // Cut back to the last whole line, so nothing is ever appended after half a line.
      await this.file!.truncate(this.position).catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close().catch(() => {});
  }

  gapLine(gap: Gap): Buffer {
    return Buffer.from(this.gapText(gap.dropped + gap.failed), 'utf8');
  }
}
