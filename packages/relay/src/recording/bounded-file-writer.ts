import { systemClock, type Clock, type TimerHandle } from '@lifeline/shared/core';
import { ungatedDisk, type DiskGate } from './disk-gate.js';

/*
 * Why ordered async writes and not writeSync: one relay process serves hundreds of sessions and
 * thousands of console logs on one event loop. writeSync is fast while the page cache takes the
 * data, but a stalled disk (an NFS hiccup, a dying SD card, the kernel throttling a writer with
 * too many dirty pages, an fsfreeze) would then freeze every console on the relay at once, which
 * is the outage we exist for. So each file has at most one operation in flight, through the
 * relay's DiskGate, and what arrives meanwhile waits in a queue bounded in bytes; past the bound
 * it is dropped and counted instead of piling up, and the file says where (a gap line).
 *
 * This is the one such writer of the relay: session recordings (line-file-writer.ts) and the
 * continuous console logs (console-log.ts) each give it a FileSink, which is all that differs
 * between them (how the file is opened or created, how a write is undone or rotated, how a gap
 * reads).
 */

/** The file a BoundedFileWriter writes to. The writer calls one method at a time, through its gate. */
export interface FileSink {
  /** Whether the file is open; `open()` is called before a write when it is not. */
  readonly isOpen: boolean;
  /** Opens or creates the file. Rejects with the file system's error and stays closed. */
  open(): Promise<void>;
  /**
   * Writes all of `data` (whole items: lines, chunks) after what the file holds. Rejects with the
   * file system's error, after putting itself back in a state to be tried again (cut back to the
   * last whole item, or closed).
   */
  write(data: Buffer): Promise<void>;
  /** Closes the file if it is open; closed afterwards even when it rejects. */
  close(): Promise<void>;
  /** What to put in the file where `gap` went missing (its format is the sink's business). */
  gapLine(gap: Gap): Buffer;
}

/**
 * Output that did not reach the file, in the writer's unit (recording events, console bytes):
 * `dropped` found the queue full, `failed` was in (or waiting for) an open or write that failed.
 * `since` is when the first of it was lost.
 */
export interface Gap {
  dropped: number;
  failed: number;
  since: number;
}

/**
 * Whether the file is taking output. `error` is what stopped it; undefined when the file's
 * creation did not answer within `stallMs`. `lost` is what was lost while it was stopped.
 */
export type WriterStatus = { writing: true; lost: number } | { writing: false; error: Error | undefined };

export interface BoundedFileWriterOptions {
  sink: FileSink;
  /** Bytes held for the disk (waiting, and the write in flight) past which output is dropped. */
  maxQueuedBytes: number;
  /** Pause before trying a failed open or write again (0, for tests: at the next write). */
  retryMs: number;
  /**
   * true: the file is opened (created with its first line) at once, and again after `retryMs`
   * until that works; the status turns `writing` once it is open. false: it is opened when there
   * is something to write, and only a write that worked turns the status `writing`.
   */
  openAtStart: boolean;
  /** With `openAtStart`: an open still unanswered after this long reports the file stopped. */
  stallMs?: number;
  /** The file stopped or started taking output (only changes are reported). */
  onStatus(status: WriterStatus): void;
  /** Output was dropped because the disk did not keep up (first of a streak only). */
  onOverflow?(heldBytes: number): void;
  /** Everything is written and nothing is waiting (a sink may close an idle file then). */
  onIdle?(): void;
  /** Shared by every file the relay writes to its state disk; absent in tests (ungated). */
  gate?: DiskGate;
  clock?: Clock;
}

/**
 * Most bytes handed to one write call: what has queued since the last write, up to this. Not
 * configurable: a batch grows with the time a write takes, so a file keeps up with a fast console
 * on a loaded machine (one write per 50 ms carries 20 MiB/s), and the cap only bounds how long one
 * file holds its gate slot and what one failed write loses.
 */
const BATCH_BYTES = 1024 * 1024;

/**
 * Pause before a failed open or write is tried again, for recordings and console logs. Not
 * configurable: a retry costs one failed system call, and 5 s bounds how long output waits
 * (within the queue's bound) for a disk that comes back, without spinning on a dead one.
 */
export const DISK_RETRY_MS = 5_000;

const EMPTY = Buffer.alloc(0);

/** Output waiting for the disk: `weight` is what it stands for (events, bytes), `since` marks a gap line. */
interface Queued {
  bytes: Buffer;
  weight: number;
  since?: number;
}

/** Appends to one file, in order, without ever blocking or throwing at the caller. */
export class BoundedFileWriter {
  private readonly sink: FileSink;
  private readonly gate: DiskGate;
  private readonly clock: Clock;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private inFlightBytes = 0;
  /** Operations from `run`, done before the next write. */
  private readonly ops: Array<() => Promise<void>> = [];
  /** An operation is in flight. */
  private busy = false;
  /** No open or write before this time (after a failure); the retry timer pumps then. */
  private retryAt = 0;
  /** A failure during close: no further try. */
  private gaveUp = false;
  private retryTimer: TimerHandle | undefined;
  private stallTimer: TimerHandle | undefined;
  /** Lost and not yet marked in the file. */
  private gap: Gap | undefined;
  /** Lost while the status was stopped, for the resume report. */
  private lostWhileStopped = 0;
  /** What was last reported through onStatus (undefined: nothing yet). */
  private reported: boolean | undefined;
  private overflowing = false;
  private closing = false;
  private closed: Promise<number> | undefined;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: BoundedFileWriterOptions) {
    this.sink = options.sink;
    this.gate = options.gate ?? ungatedDisk;
    this.clock = options.clock ?? systemClock;
    if (options.openAtStart && options.stallMs !== undefined) {
      this.stallTimer = this.clock.setTimeout(() => {
        if (!this.sink.isOpen && this.busy) this.report({ writing: false, error: undefined });
      }, options.stallMs);
    }
    this.pump();
  }

  /** Whether `bytes` more would be taken now (so the caller can skip encoding what would be dropped). */
  hasRoomFor(bytes: number): boolean {
    return !this.waiting() || this.inFlightBytes + this.queuedBytes + bytes <= this.options.maxQueuedBytes;
  }

  /** Queues `bytes` (standing for `weight` units), or drops and counts them when there is no room. Ignored after close. */
  write(bytes: Buffer, weight: number): void {
    if (this.closing) return;
    if (!this.hasRoomFor(bytes.length)) return this.drop(weight);
    this.overflowing = false;
    // Whatever was lost came after everything queued and before this: mark it here.
    this.markGap();
    this.enqueue({ bytes, weight });
    this.pump();
  }

  /** Counts `weight` units as dropped without queuing them (the caller found no room). */
  drop(weight: number): void {
    if (this.closing) return;
    this.lose('dropped', weight, this.clock.now());
    if (this.reported === false) this.lostWhileStopped += weight;
    if (!this.overflowing) this.options.onOverflow?.(this.inFlightBytes + this.queuedBytes);
    this.overflowing = true;
  }

  /**
   * Runs `op` (through the gate) after the operation in flight and before the next write: for
   * what the sink does besides writing (preparing the folder, closing an idle file). A rejection
   * is reported as the file stopped; it loses nothing and starts no retry pause.
   */
  run(op: () => Promise<void>): void {
    this.ops.push(op);
    this.pump();
  }

  /** Reports a failure found outside the writer (status stopped); loses nothing. */
  fail(err: Error): void {
    this.report({ writing: false, error: err });
  }

  /** Nothing in flight and nothing waiting. */
  get idle(): boolean {
    return !this.busy && this.queue.length === 0 && this.ops.length === 0;
  }

  /** Resolves once everything queued so far is written or given up on for now (a failure). Never rejects. */
  flush(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Writes what is queued (one last try, even during a retry pause), then closes the sink.
   * Resolves with what was not written, in the writer's unit. Idempotent; never rejects.
   */
  close(): Promise<number> {
    this.closed ??= this.finish();
    return this.closed;
  }

  private async finish(): Promise<number> {
    this.closing = true;
    this.markGap();
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    this.retryAt = 0;
    this.pump();
    await this.flush();
    this.stallTimer?.cancel();
    const unwritten = this.queue.reduce((n, q) => n + q.weight, 0) + (this.gap ? this.gap.dropped + this.gap.failed : 0);
    try {
      await this.gate.run(() => this.sink.close());
    } catch (err) {
      this.report({ writing: false, error: err as Error });
    }
    return unwritten;
  }

  /** Output must wait rather than go to the disk at once. */
  private waiting(): boolean {
    return this.busy || this.backingOff() || this.ops.length > 0;
  }

  private backingOff(): boolean {
    return this.gaveUp || this.clock.now() < this.retryAt;
  }

  private lose(kind: 'dropped' | 'failed', weight: number, since: number): void {
    this.gap ??= { dropped: 0, failed: 0, since };
    this.gap[kind] += weight;
  }

  private enqueue(item: Queued, front = false): void {
    if (front) this.queue.unshift(item);
    else this.queue.push(item);
    this.queuedBytes += item.bytes.length;
  }

  private markGap(front = false): void {
    const gap = this.gap;
    if (!gap) return;
    this.gap = undefined;
    this.enqueue({ bytes: this.sink.gapLine(gap), weight: gap.dropped + gap.failed, since: gap.since }, front);
  }

  private report(status: WriterStatus): void {
    if (this.reported === status.writing) return;
    this.reported = status.writing;
    if (status.writing) this.lostWhileStopped = 0;
    this.options.onStatus(status);
  }

  private pump(): void {
    if (this.busy) return;
    const op = this.ops.shift();
    if (op) return this.start(() => this.runOp(op));
    const backingOff = this.backingOff();
    if (!backingOff) {
      if (!this.sink.isOpen && (this.options.openAtStart || this.queue.length > 0)) return this.start(() => this.open());
      if (this.queue.length > 0) return this.start(() => this.writeNext());
    }
    // Everything is written, or given up on until the next try.
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (this.queue.length === 0 && !backingOff && !this.closing) this.options.onIdle?.();
  }

  /** `step` never rejects. */
  private start(step: () => Promise<void>): void {
    this.busy = true;
    void step().finally(() => {
      this.busy = false;
      this.pump();
    });
  }

  private async runOp(op: () => Promise<void>): Promise<void> {
    try {
      await this.gate.run(op);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private async open(): Promise<void> {
    try {
      await this.gate.run(() => this.sink.open());
    } catch (err) {
      this.stallTimer?.cancel();
      // What would have been written first is lost with the open.
      this.failed(err as Error, this.takeBatch());
      return;
    }
    this.stallTimer?.cancel();
    // What was dropped while it opened came after everything queued.
    this.markGap();
    if (this.options.openAtStart) this.report({ writing: true, lost: this.lostWhileStopped });
  }

  private async writeNext(): Promise<void> {
    const batch = this.takeBatch();
    const data = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((q) => q.bytes));
    // The items' own buffers are not needed past here, only what they stand for.
    for (const q of batch) q.bytes = EMPTY;
    this.inFlightBytes = data.length;
    try {
      await this.gate.run(() => this.sink.write(data));
      this.report({ writing: true, lost: this.lostWhileStopped });
    } catch (err) {
      this.failed(err as Error, batch);
    } finally {
      this.inFlightBytes = 0;
    }
  }

  /** Takes whole items from the front of the queue, up to BATCH_BYTES (at least one). */
  private takeBatch(): Queued[] {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.bytes.length <= BATCH_BYTES)) bytes += this.queue[n++]!.bytes.length;
    this.queuedBytes -= bytes;
    return this.queue.splice(0, n);
  }

  /** `batch` could not be written: count it lost, say so, and pause `retryMs` before the next try. */
  private failed(err: Error, batch: Queued[]): void {
    const weight = batch.reduce((n, q) => n + q.weight, 0);
    const fresh = batch.reduce((n, q) => n + (q.since === undefined ? q.weight : 0), 0);
    if (weight > 0) this.lose('failed', weight, batch.find((q) => q.since !== undefined)?.since ?? this.clock.now());
    // What is still queued came after the lost batch: the gap goes before it.
    if (this.queue.length > 0) this.markGap(true);
    this.retryAt = this.clock.now() + this.options.retryMs;
    // The next write after retryAt tries again, and so does the timer when none comes.
    if (this.closing) this.gaveUp = true;
    else {
      this.retryTimer?.cancel();
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, this.options.retryMs);
    }
    this.report({ writing: false, error: err });
    this.lostWhileStopped += fresh;
  }
}
