import type { FileHandle } from 'node:fs/promises';
import { systemClock, type Clock, type TimerHandle } from '@lifeline/shared';
import { ungatedDisk, type DiskGate } from './disk-gate.js';
import { diskProblem, type CreatedFile } from './recording-file.js';

/*
 * Why ordered async writes and not writeSync: one relay process serves hundreds of sessions on
 * one event loop. writeSync is fast while the page cache takes the data, but a stalled disk (an
 * NFS hiccup, a dying SD card, the kernel throttling a writer with too many dirty pages, an
 * fsfreeze) would then freeze every console on the relay at once, which is the outage we exist
 * for. So each file has at most one write in flight, and lines that arrive meanwhile wait in a
 * queue bounded in bytes; past the bound they are dropped and counted instead of piling up.
 *
 * The file itself is created in the background (`create`, which writes the first line with the
 * creation, so the file never exists without it); lines written meanwhile wait in the same
 * bounded queue. A creation or write that fails is retried after `retryMs`, at the next line
 * (or at close); whatever is lost meanwhile is counted and marked by a gap line where it went
 * missing. Every write call carries whole lines only, at an explicit position, so a process
 * killed with SIGKILL leaves whole lines; a write that fails part-way (ENOSPC, EFBIG) is cut
 * back to the end of the last whole line.
 */

/** A line (ending in `\n`) and how many events it stands for (more than one for a gap line). */
interface QueuedLine {
  bytes: Buffer;
  events: number;
  gap?: true;
}

/** Whether the file is taking lines; `reason` says why not, in words fit for a person. */
export type WriterStatus = { writing: true; lost: number } | { writing: false; reason: string; error?: Error };

export interface LineFileWriterOptions {
  /** Creates the file with its first line (recording-file.ts); rejects with the fs error. */
  create(): Promise<CreatedFile>;
  /** Bytes allowed to wait behind the write in flight; past this, lines are dropped. */
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
  onOverflow(queuedBytes: number): void;
  gate?: DiskGate;
  clock?: Clock;
  /** Pause before trying a failed creation or write again (default 5 s). */
  retryMs?: number;
  /** A creation still unanswered after this long counts as stopped (default 5 s). */
  stallMs?: number;
}

/** Appends whole lines to a new file, in order, without ever blocking or throwing at the caller. */
export class LineFileWriter {
  private file: FileHandle | undefined;
  private queue: QueuedLine[] = [];
  private queuedBytes = 0;
  private position = 0;
  /** A creation or a write is in flight. */
  private busy = false;
  /** No creation or write before this time (after a failure). */
  private retryAt = 0;
  /** Lines lost and not yet marked by a gap line. */
  private lost = 0;
  /** Lines lost while not writing, for the resume report. */
  private lostWhileStopped = 0;
  /** What was last reported through onStatus (undefined: nothing yet). */
  private reported: boolean | undefined;
  private overflowing = false;
  private stallTimer: TimerHandle | undefined;
  private closed: Promise<void> | undefined;
  private idle: Array<() => void> = [];
  private readonly gate: DiskGate;
  private readonly clock: Clock;

  constructor(private readonly options: LineFileWriterOptions) {
    this.gate = options.gate ?? ungatedDisk;
    this.clock = options.clock ?? systemClock;
    this.stallTimer = this.clock.setTimeout(() => {
      if (!this.file && this.busy) this.report({ writing: false, reason: 'the recordings disk does not answer' });
    }, options.stallMs ?? 5_000);
    this.pump();
  }

  /** Whether a line of at least `bytes` would be queued now (so the caller can skip encoding it). */
  hasRoomFor(bytes: number): boolean {
    return !this.waiting() || this.queuedBytes + bytes <= this.options.maxQueuedBytes;
  }

  /** Counts one event as lost without queuing it (the caller found no room for it). */
  drop(): void {
    if (this.closed) return;
    this.overflow();
  }

  /** Queues one line (must end in `\n`). Ignored after close. */
  write(line: string): void {
    if (this.closed) return;
    const bytes = Buffer.from(line, 'utf8');
    if (!this.hasRoomFor(bytes.length)) return this.overflow();
    this.overflowing = false;
    // Whatever was dropped came after everything queued and before this line: mark it here.
    this.markGap();
    this.enqueue({ bytes, events: 1 });
    this.pump();
  }

  /** Resolves once every line queued so far has been written or given up on for now. */
  flush(): Promise<void> {
    if (this.settled()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Writes what is queued (one last try, even while waiting to retry), then closes. Idempotent; never rejects. */
  close(): Promise<void> {
    if (!this.closed) {
      this.markGap();
      this.retryAt = 0;
      this.pump();
      this.closed = this.flush().then(async () => {
        this.stallTimer?.cancel();
        await this.file?.close().catch(() => {});
      });
    }
    return this.closed;
  }

  /** Lines must wait rather than go to the disk at once. */
  private waiting(): boolean {
    return this.busy || !this.file || this.clock.now() < this.retryAt;
  }

  private settled(): boolean {
    return !this.busy && (this.queue.length === 0 || this.clock.now() < this.retryAt);
  }

  private overflow(): void {
    this.lost++;
    if (this.reported === false) this.lostWhileStopped++;
    if (!this.overflowing) this.options.onOverflow(this.queuedBytes);
    this.overflowing = true;
  }

  private enqueue(line: QueuedLine, front = false): void {
    if (front) this.queue.unshift(line);
    else this.queue.push(line);
    this.queuedBytes += line.bytes.length;
  }

  private markGap(front = false): void {
    if (this.lost === 0) return;
    this.enqueue({ bytes: Buffer.from(this.options.gapLine(this.lost), 'utf8'), events: this.lost, gap: true }, front);
    this.lost = 0;
  }

  private report(status: WriterStatus): void {
    if (this.reported === status.writing) return;
    this.reported = status.writing;
    if (status.writing) this.lostWhileStopped = 0;
    this.options.onStatus(status);
  }

  private pump(): void {
    if (this.busy) return;
    const backingOff = this.clock.now() < this.retryAt;
    if (!backingOff && !this.file) {
      this.busy = true;
      void this.createFile().finally(() => {
        this.busy = false;
        this.pump();
      });
      return;
    }
    if (!backingOff && this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      this.busy = true;
      void this.gate
        .run(() => this.writeBatch(batch))
        .finally(() => {
          this.busy = false;
          this.pump();
        });
      return;
    }
    // Everything is written, or given up on until the next try.
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private async createFile(): Promise<void> {
    try {
      const created = await this.options.create();
      this.stallTimer?.cancel();
      this.file = created.file;
      this.position = created.position;
      // Lines dropped while it was being made came after everything queued.
      this.markGap();
      this.report({ writing: true, lost: this.lostWhileStopped });
    } catch (err) {
      this.stallTimer?.cancel();
      this.failed(err as Error, this.queue);
      this.queue = [];
      this.queuedBytes = 0;
    }
  }

  private async writeBatch(batch: QueuedLine[]): Promise<void> {
    const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((l) => l.bytes));
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await this.file!.write(bytes, done, bytes.length - done, this.position + done);
        done += bytesWritten;
      }
      this.position += bytes.length;
      this.report({ writing: true, lost: this.lostWhileStopped });
    } catch (err) {
      // Cut back to the last whole line, so nothing is ever appended after half a line.
      await this.file!.truncate(this.position).catch(() => {});
      this.failed(err as Error, batch);
      // Lines queued during this write came after the lost ones: the gap goes before them.
      if (this.queue.length > 0) this.markGap(true);
    }
  }

  /** `batch` could not be written: count it lost, say so, and wait `retryMs` before the next try. */
  private failed(err: Error, batch: QueuedLine[]): void {
    const events = batch.reduce((n, l) => n + l.events, 0);
    const fresh = batch.reduce((n, l) => n + (l.gap ? 0 : l.events), 0);
    this.lost += events;
    this.retryAt = this.clock.now() + (this.options.retryMs ?? 5_000);
    this.report({ writing: false, reason: diskProblem(err), error: err });
    this.lostWhileStopped += fresh;
  }
}
