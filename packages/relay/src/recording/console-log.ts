import { mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { LifelineError, systemClock, type Clock, type Logger, type TimerHandle } from '@lifeline/shared/core';
import { BoundedFileWriter, DISK_RETRY_MS, type WriterStatus } from './bounded-file-writer.js';
import { ByteRing } from './byte-ring.js';
import { ConsoleLogFile, noteLine, type OpenLogFiles } from './console-log-file.js';
import type { DiskGate } from './disk-gate.js';
import { chmodIfPresent, readLogTail, removeSurplusLogFiles } from './log-files.js';
import { formatScrollback } from './scrollback-format.js';

export { formatScrollback };

export interface ConsoleLogOptions {
  /** Absolute folder for every device's log (created with mode 0700). */
  dir: string;
  deviceId: string;
  /** A file is rotated when it reaches this size. */
  maxBytes: number;
  /** Files kept, the current one included. */
  files: number;
  /** Size of the in-memory scrollback ring; 0 turns scrollback off. */
  scrollbackBytes: number;
  /** Bytes held for the disk (the write in progress included) past which output is dropped (`consoleLog.queueBytes`). */
  queueBytes: number;
  logger: Logger;
  clock?: Clock;
  /** Pause before trying the disk again after an error; DISK_RETRY_MS unless a test shortens it. */
  retryMs?: number;
  /** Shared by every file the relay writes to its state disk (disk-gate.ts). */
  gate?: DiskGate;
  /**
   * Indexes of this device's rotated files found by one `listRotatedLogFiles` of `dir`; without
   * it the log lists the folder itself (fine for one log, quadratic for thousands).
   */
  rotated?: readonly number[];
  /** The file is closed after this long without a write; CONSOLE_LOG_IDLE_CLOSE_MS unless a test says otherwise. */
  idleCloseMs?: number;
  /** Shared by every console log of a relay: bounds the files kept open while idle. */
  openFiles?: OpenLogFiles;
}

/**
 * A quiet device's log file is closed after this long without a write, so a relay with thousands
 * of quiet devices holds no descriptor for them. Not configurable: the descriptors a relay may
 * spend on logs are bounded by OpenLogFiles (a crowded relay closes at once), and this only saves
 * reopening the file of a device that prints in bursts.
 */
export const CONSOLE_LOG_IDLE_CLOSE_MS = 5_000;

/**
 * One device's continuous console log (as conserver and ConMan keep): every byte the device
 * prints, attended or not, exactly as received, in `<dir>/<deviceId>.log` with size-based
 * rotation (console-log-file.ts), plus an in-memory ring of the latest output for people who
 * join (`scrollback()`).
 *
 * Writing never blocks or throws into the caller: it goes through the relay's one bounded writer
 * (bounded-file-writer.ts), so output that outgrows `queueBytes` is dropped (and the log says
 * where and how much), and disk errors are logged once per streak (`event: 'console-log.error'`)
 * and retried after `retryMs`.
 *
 * The file is opened when there is something to write and closed again after `idleCloseMs`
 * without a write: a relay with thousands of quiet devices holds no descriptor for them.
 */
export class ConsoleLog {
  /** The current file. */
  readonly path: string;
  private ring: ByteRing;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly file: ConsoleLogFile;
  private readonly writer: BoundedFileWriter;
  private idleTimer: TimerHandle | undefined;
  private failing = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  /**
   * Returns at once and starts in the background (through the disk gate, so thousands of logs
   * start a few at a time): creates the folder, deletes surplus rotated files and primes the
   * scrollback ring from the end of the existing log (so context survives a relay restart).
   * Output appended meanwhile is kept and written after the start. Does not fail for disk
   * problems (they are logged and writing is retried later); throws only for a device id that
   * is not a file name.
   */
  static create(options: ConsoleLogOptions): ConsoleLog {
    if (basename(options.deviceId) !== options.deviceId || options.deviceId.startsWith('.')) {
      throw new LifelineError('CONFIG_INVALID', `device id "${options.deviceId}" cannot name a console log file`);
    }
    return new ConsoleLog(options);
  }

  /** `create`, resolved once the start is done. */
  static async open(options: ConsoleLogOptions): Promise<ConsoleLog> {
    const log = ConsoleLog.create(options);
    await log.flush();
    return log;
  }

  private constructor(private readonly options: ConsoleLogOptions) {
    this.ring = new ByteRing(options.scrollbackBytes);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'console-log', deviceId: options.deviceId });
    this.file = new ConsoleLogFile(options);
    this.path = this.file.path;
    this.writer = new BoundedFileWriter({
      sink: this.file,
      maxQueuedBytes: options.queueBytes,
      retryMs: options.retryMs ?? DISK_RETRY_MS,
      openAtStart: false,
      gate: options.gate,
      clock: this.clock,
      onStatus: (status) => this.statusChanged(status),
      onIdle: () => this.closeWhenIdle(),
    });
    // First in the writer's lane: nothing is written before the tail has been read.
    this.writer.run(() => this.start());
  }

  /** Raw bytes from the device. Never throws; returns at once. */
  append(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    try {
      this.ring.write(chunk);
      // A copy: the caller may reuse its buffer before the disk gets to this one.
      this.enqueue(Buffer.from(chunk));
    } catch (err) {
      this.writer.fail(err as Error);
    }
  }

  /**
   * Output another member of a relay group writes to the device's log: kept in the scrollback only,
   * for the people who join here. Never throws.
   */
  remember(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    this.ring.write(chunk);
  }

  /** Writes `[lifeline <time>] text` on a line of its own, so a reader sees gaps and events. */
  note(text: string): void {
    if (this.closed) return;
    const line = this.noteBytes(text);
    this.ring.write(line);
    this.enqueue(line);
  }

  /** A note for the scrollback only (`remember`'s for notes). */
  rememberNote(text: string): void {
    if (this.closed) return;
    this.ring.write(this.noteBytes(text));
  }

  private noteBytes(text: string): Buffer {
    return Buffer.from(noteLine(this.clock.now(), text));
  }

  /** The latest output (at most `scrollbackBytes`), including notes, oldest byte first. */
  scrollback(): Buffer {
    return this.ring.contents();
  }

  /** The scrollback framed for a person who joins (`formatScrollback`); empty when there is none. */
  joinScrollback(): Buffer {
    return formatScrollback(this.ring.contents(), this.options.deviceId);
  }

  /** Resolves once everything appended so far has been written, or its write has failed. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Writes what is queued (one last try if the disk was failing) and closes the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    this.closed = true;
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    const unwritten = await this.writer.close();
    if (unwritten > 0)
      this.logger.warn(
        { event: 'console-log.unwritten', bytes: unwritten, path: this.path },
        'closing the console log with output not written',
      );
  }

  private async start(): Promise<void> {
    const { dir, deviceId, files, scrollbackBytes, rotated } = this.options;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await removeSurplusLogFiles(dir, deviceId, files, rotated);
    // An existing file keeps its mode: make sure it is private even before the next write.
    await chmodIfPresent(this.path, 0o600);
    if (scrollbackBytes > 0) {
      const tail = await readLogTail(dir, deviceId, scrollbackBytes);
      // What arrived while the tail was read comes after it.
      const fresh = this.ring.contents();
      this.ring = new ByteRing(scrollbackBytes);
      this.ring.write(tail);
      this.ring.write(fresh);
    }
  }

  /** Bytes of console output and notes alike count in bytes (the unit of the log's gap notes). */
  private enqueue(bytes: Buffer): void {
    // Output is coming: the idle time starts again once it is written.
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    this.writer.write(bytes, bytes.length);
  }

  /** Closes the file once nothing has been written for `idleCloseMs`; the next write reopens it. */
  private closeWhenIdle(): void {
    if (this.closed || !this.file.isOpen || this.idleTimer) return;
    const crowded = this.options.openFiles?.crowded ?? false;
    this.idleTimer = this.clock.setTimeout(
      () => {
        this.idleTimer = undefined;
        if (this.closed || !this.writer.idle) return;
        this.writer.run(() => this.file.close());
      },
      crowded ? 0 : (this.options.idleCloseMs ?? CONSOLE_LOG_IDLE_CLOSE_MS),
    );
  }

  /** Logs the first error of a streak only: a dead disk must not flood the relay's log. */
  private statusChanged(status: WriterStatus): void {
    if (!status.writing) {
      this.failing = true;
      this.logger.error(
        { event: 'console-log.error', path: this.path, err: status.error },
        'cannot write the console log; output is kept in memory for a while, then dropped',
      );
    } else if (this.failing) {
      this.failing = false;
      this.logger.info({ event: 'console-log.recovered', path: this.path }, 'console log is being written again');
    }
  }
}
