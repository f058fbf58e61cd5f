import { open, type FileHandle } from 'node:fs/promises';

/*
 * Why ordered async writes and not writeSync: one relay process serves hundreds of sessions on
 * one event loop. writeSync is fast while the page cache takes the data, but a stalled disk (an
 * NFS hiccup, a dying SD card, the kernel throttling a writer with too many dirty pages) would
 * then freeze every console on the relay at once, which is the outage we exist for. So each
 * file has at most one write in flight, and lines that arrive meanwhile wait in a queue bounded
 * in bytes; past the bound they are dropped and counted instead of piling up in memory.
 *
 * Every write call carries whole lines only (the queue's lines joined), at an explicit
 * position, so a process killed with SIGKILL leaves whole lines in the page cache: the file is
 * valid up to the last line the kernel took, and in the usual case (the queue is empty because
 * the disk keeps up) that is the last event. If a write fails part-way (ENOSPC, EFBIG), the
 * file is truncated back to the end of the last whole line, so a later write never lands after
 * half a line, and the next successful write starts with a gap line saying how much was lost.
 */

/** A line (ending in `\n`) and how many events it stands for (more than one for a gap line). */
interface QueuedLine {
  bytes: Buffer;
  events: number;
  gap?: true;
}

export interface LineFileWriterOptions {
  /** Bytes allowed to wait behind the write in flight; past this, lines are dropped. */
  maxQueuedBytes: number;
  /** The line to put where `lost` lines went missing (the writer knows nothing of the format). */
  gapLine(lost: number): string;
  /** The writer started losing lines (first of a streak only, so a full disk does not flood logs). */
  onLoss(err: Error): void;
  /** Lines are being written again after `lost` went missing. */
  onRecovered(lost: number): void;
}

/** Appends whole lines to a new file, in order, without ever blocking or throwing at the caller. */
export class LineFileWriter {
  private queue: QueuedLine[] = [];
  private queuedBytes = 0;
  private position = 0;
  private writing = false;
  /** Lines lost and not yet marked by a gap line. */
  private lost = 0;
  /** Lines lost since the last successful write, for the recovery report; > 0 while losing. */
  private streak = 0;
  private closed: Promise<void> | undefined;
  private idle: Array<() => void> = [];

  private constructor(
    private readonly file: FileHandle,
    private readonly options: LineFileWriterOptions,
  ) {}

  /** Creates `path` (never overwrites: EEXIST is thrown) with `mode`; rejects on any open error. */
  static async create(path: string, mode: number, options: LineFileWriterOptions): Promise<LineFileWriter> {
    return new LineFileWriter(await open(path, 'wx', mode), options);
  }

  /** Queues one line (must end in `\n`). Ignored after close. */
  write(line: string): void {
    if (this.closed) return;
    const bytes = Buffer.from(line, 'utf8');
    if (this.writing && this.queuedBytes + bytes.length > this.options.maxQueuedBytes) {
      this.lose(1, 1, () => new Error(`recording is ${this.queuedBytes} bytes behind the disk; dropping events`));
      return;
    }
    // Whatever was dropped came after everything queued and before this line: mark it here.
    this.markGap();
    this.enqueue({ bytes, events: 1 });
    this.pump();
  }

  /** Resolves once every line queued so far has been written or given up on. */
  flush(): Promise<void> {
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Writes what is queued (and a last gap line if lines were lost), then closes the file. Idempotent; never rejects. */
  close(): Promise<void> {
    if (!this.closed) {
      this.markGap();
      this.pump();
      this.closed = this.flush().then(() => this.file.close().catch(() => {}));
    }
    return this.closed;
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

  /** `events` more to mark as lost, of which `fresh` were not already counted (in a gap line). */
  private lose(events: number, fresh: number, error: () => Error): void {
    this.lost += events;
    if (this.streak === 0) this.options.onLoss(error());
    this.streak += fresh;
  }

  private pump(): void {
    if (this.writing) return;
    if (this.queue.length === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.writing = true;
    void this.writeBatch(batch).finally(() => {
      this.writing = false;
      this.pump();
    });
  }

  private async writeBatch(batch: QueuedLine[]): Promise<void> {
    const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((l) => l.bytes));
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await this.file.write(bytes, done, bytes.length - done, this.position + done);
        done += bytesWritten;
      }
      this.position += bytes.length;
      if (this.streak > 0) {
        this.options.onRecovered(this.streak);
        this.streak = 0;
      }
    } catch (err) {
      // Cut back to the last whole line, so nothing is ever appended after half a line.
      await this.file.truncate(this.position).catch(() => {});
      const events = batch.reduce((n, l) => n + l.events, 0);
      const fresh = batch.reduce((n, l) => n + (l.gap ? 0 : l.events), 0);
      this.lose(events, fresh, () => err as Error);
      // Lines queued during this write came after the lost ones: the gap goes before them.
      if (this.queue.length > 0) this.markGap(true);
    }
  }
}
