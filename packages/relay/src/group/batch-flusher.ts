/** The pause before a failed flush is tried again, at least. */
const RETRY_MS = 1_000;

export interface BatchFlusherOptions {
  /** How long changes are collected after the first one before they are written together. */
  flushMs: number;
  /** Writes what was collected; throws when nothing could be written (the caller keeps it for the next try). */
  flush: () => Promise<void>;
  /** A flush threw; it is tried again after max(flushMs, 1 s). */
  onError: (err: unknown) => void;
}

/**
 * The write loop of a group table a member keeps up to date (member-rows.ts, recording-index.ts):
 * `request()` after a change; `flush` runs `flushMs` later, one at a time, with everything
 * collected by then. A change during a flush is written by the next one; a flush that throws is
 * tried again later, on the group's pace, while the database is away.
 */
export class BatchFlusher {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(private readonly options: BatchFlusherOptions) {}

  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.timer ??= setTimeout(() => void this.run(), this.options.flushMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    let failed = false;
    try {
      await this.options.flush();
    } catch (err) {
      failed = true;
      this.options.onError(err);
    }
    this.running = false;
    if (this.stopped) return;
    if (failed) {
      this.again = false;
      this.timer ??= setTimeout(() => void this.run(), Math.max(this.options.flushMs, RETRY_MS));
    } else if (this.again) {
      this.again = false;
      this.request();
    }
  }
}
