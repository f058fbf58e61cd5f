import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { LifelineError, systemClock, type Clock, type Logger, type TimerHandle } from '@lifeline/shared';
import { ByteRing } from './byte-ring.js';
import { ungatedDisk, type DiskGate } from './disk-gate.js';
import { chmodIfPresent, logFilePath, readLogTail, removeSurplusLogFiles, rotateLogFiles } from './log-files.js';

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
  logger: Logger;
  clock?: Clock;
  /** Bytes waiting for the disk (the write in progress included) past which output is dropped. */
  queueBytes?: number;
  /** Pause before trying the disk again after an error. */
  retryMs?: number;
  /** Shared by every file the relay writes to its state disk (disk-gate.ts). */
  gate?: DiskGate;
  /**
   * Indexes of this device's rotated files found by one `listRotatedLogFiles` of `dir`; without
   * it the log lists the folder itself (fine for one log, quadratic for thousands).
   */
  rotated?: readonly number[];
  /** The file is closed after this long without a write, so an idle device holds no descriptor. */
  idleCloseMs?: number;
  /** Shared by every console log of a relay: bounds the files kept open while idle. */
  openFiles?: OpenLogFiles;
}

/** Console-log files a relay keeps open while idle; inside the 256 descriptors open-file-limit.ts keeps back from connections. */
export const RELAY_OPEN_LOG_FILES = 128;

/**
 * Counts the console-log files a relay holds open. Past `max`, a log closes its file as soon as
 * what it had queued is written rather than after `idleCloseMs`: when thousands of devices write
 * at once (the `relay started` note at a restart, a site's power coming back), the relay does not
 * hold a file per device for seconds while the agents' sockets need the descriptors.
 */
export class OpenLogFiles {
  count = 0;
  constructor(readonly max: number) {}
}

/** Most bytes handed to one write call. */
const BATCH_BYTES = 64 * 1024;
const DEFAULT_QUEUE_BYTES = 1024 * 1024;
const DEFAULT_RETRY_MS = 5_000;
const DEFAULT_IDLE_CLOSE_MS = 5_000;

/** Output waiting for the disk, or a note that some did not fit. */
type Pending = { kind: 'data'; bytes: Buffer } | { kind: 'gap'; dropped: number; at: number };

/**
 * One device's continuous console log (as conserver and ConMan keep): every byte the device
 * prints, attended or not, exactly as received, in `<dir>/<deviceId>.log` with size-based
 * rotation, plus an in-memory ring of the latest output for people who join (`scrollback()`).
 *
 * Writing never blocks or throws into the caller: chunks queue for a single writer, a queue
 * that outgrows `queueBytes` drops output (and the log says where and how much), and disk
 * errors are logged once per streak (`event: 'console-log.error'`) and retried after `retryMs`.
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
  private readonly queueBytes: number;
  private readonly retryMs: number;
  private readonly queue: Pending[] = [];
  /** Bytes queued plus the batch being written: the memory bound. */
  private queued = 0;
  /** Bytes whose write failed (since `lostAt`), noted in the file once writing works again. */
  private lost = 0;
  private lostAt = 0;
  private handle: FileHandle | undefined;
  private size = 0;
  private writing: Promise<void> | undefined;
  private retryTimer: TimerHandle | undefined;
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
    const log = new ConsoleLog(options);
    // Holding `writing` keeps the writer off the file until the tail has been read.
    log.writing = log.start();
    return log;
  }

  /** `create`, resolved once the start is done. */
  static async open(options: ConsoleLogOptions): Promise<ConsoleLog> {
    const log = ConsoleLog.create(options);
    await log.flush();
    return log;
  }

  private constructor(private readonly options: ConsoleLogOptions) {
    this.path = logFilePath(options.dir, options.deviceId, 0);
    this.ring = new ByteRing(options.scrollbackBytes);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'console-log', deviceId: options.deviceId });
    this.queueBytes = options.queueBytes ?? DEFAULT_QUEUE_BYTES;
    this.retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
  }

  /** Raw bytes from the device. Never throws; returns at once. */
  append(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    try {
      this.ring.write(chunk);
      // A copy: the caller may reuse its buffer before the disk gets to this one.
      this.enqueue(Buffer.from(chunk));
    } catch (err) {
      this.failed(err);
    }
  }

  /** Writes `[lifeline <time>] text` on a line of its own, so a reader sees gaps and events. */
  note(text: string): void {
    if (this.closed) return;
    const line = Buffer.from(noteLine(this.clock.now(), text));
    this.ring.write(line);
    this.enqueue(line);
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
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
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
    if (this.retryTimer) {
      this.retryTimer.cancel();
      this.retryTimer = undefined;
    }
    this.kick();
    await this.writing;
    const unwritten = this.queue.reduce((sum, p) => sum + (p.kind === 'data' ? p.bytes.length : p.dropped), 0) + this.lost;
    if (unwritten > 0)
      this.logger.warn(
        { event: 'console-log.unwritten', bytes: unwritten, path: this.path },
        'closing the console log with output not written',
      );
    await this.closeHandle();
  }

  private async start(): Promise<void> {
    const { dir, deviceId, files, scrollbackBytes, rotated } = this.options;
    try {
      await (this.options.gate ?? ungatedDisk).run(async () => {
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
      });
    } catch (err) {
      this.failed(err);
    } finally {
      this.writing = undefined;
      this.kick();
    }
  }

  private enqueue(bytes: Buffer): void {
    if (this.queued + bytes.length > this.queueBytes) {
      // The disk is behind (or failing): keep the memory bound and remember where the gap is.
      const last = this.queue[this.queue.length - 1];
      if (last?.kind === 'gap') last.dropped += bytes.length;
      else this.queue.push({ kind: 'gap', dropped: bytes.length, at: this.clock.now() });
      return;
    }
    this.queue.push({ kind: 'data', bytes });
    this.queued += bytes.length;
    this.kick();
  }

  private kick(): void {
    // drain() always awaits before it ends (the queue is not empty), so `writing` is set first.
    if (this.writing || this.retryTimer || this.queue.length === 0) return;
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    this.writing = this.drain();
  }

  /** Closes the file once nothing has been written for `idleCloseMs`; the next write reopens it. */
  private closeWhenIdle(): void {
    if (this.closed || !this.handle || this.idleTimer) return;
    const crowded = this.options.openFiles !== undefined && this.options.openFiles.count > this.options.openFiles.max;
    this.idleTimer = this.clock.setTimeout(
      () => {
        this.idleTimer = undefined;
        if (this.writing || this.queue.length > 0 || this.closed) return;
        this.writing = (this.options.gate ?? ungatedDisk)
          .run(() => this.closeHandle())
          .finally(() => {
            this.writing = undefined;
            this.kick();
          });
      },
      crowded ? 0 : (this.options.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS),
    );
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const { data, queued, output, lostSince } = this.takeBatch();
        const ok = await (this.options.gate ?? ungatedDisk).run(() => this.writeBatch(data));
        this.queued -= queued;
        if (!ok) {
          // Some of it may have reached the file; the note says "up to".
          this.lost = output;
          this.lostAt = lostSince ?? this.clock.now();
          if (!this.closed) {
            this.retryTimer = this.clock.setTimeout(() => {
              this.retryTimer = undefined;
              this.kick();
            }, this.retryMs);
          }
          return;
        }
        if (this.failing) {
          this.failing = false;
          this.logger.info({ event: 'console-log.recovered', path: this.path }, 'console log is being written again');
        }
      }
    } finally {
      // Cleared in the same turn as the empty-queue check, so an append right after starts a writer.
      this.writing = undefined;
      if (this.queue.length === 0) this.closeWhenIdle();
    }
  }

  /**
   * Takes up to BATCH_BYTES from the queue, turning gaps (and earlier failed writes) into notes.
   * `queued` is what the batch frees of the memory bound, `output` the console output it stands
   * for (what is lost if it cannot be written).
   */
  private takeBatch(): { data: Buffer; queued: number; output: number; lostSince: number | undefined } {
    const parts: Buffer[] = [];
    let length = 0;
    let queued = 0;
    let output = this.lost;
    const lostSince = this.lost > 0 ? this.lostAt : undefined;
    if (this.lost > 0) {
      parts.push(Buffer.from(noteLine(this.lostAt, `up to ${this.lost} bytes of console output were lost here: writing the log failed`)));
      length += parts[0]!.length;
      this.lost = 0;
    }
    while (this.queue.length > 0 && (length === 0 || length + pendingLength(this.queue[0]!) <= BATCH_BYTES)) {
      const item = this.queue.shift()!;
      const bytes =
        item.kind === 'data'
          ? item.bytes
          : Buffer.from(noteLine(item.at, `${item.dropped} bytes of console output were dropped here: the log could not keep up`));
      if (item.kind === 'data') queued += bytes.length;
      output += item.kind === 'data' ? bytes.length : item.dropped;
      parts.push(bytes);
      length += bytes.length;
    }
    return { data: Buffer.concat(parts, length), queued, output, lostSince };
  }

  /** Writes a batch across rotations; false (error logged) if it did not all reach the file. */
  private async writeBatch(data: Buffer): Promise<boolean> {
    let written = 0;
    try {
      if (!this.handle) await this.openCurrent();
      while (written < data.length) {
        if (this.size >= this.options.maxBytes) await this.rotate();
        // Fill each file exactly to maxBytes: the files are one byte stream cut in pieces.
        const piece = data.subarray(written, written + (this.options.maxBytes - this.size));
        await writeAll(this.handle!, piece);
        written += piece.length;
        this.size += piece.length;
      }
    } catch (err) {
      this.failed(err);
      // Reopen next time: the folder may have been recreated meanwhile.
      await this.closeHandle();
      return false;
    }
    return true;
  }

  private async openCurrent(): Promise<void> {
    const handle = await open(this.path, 'a', 0o600);
    try {
      // An existing file keeps its mode on open: make sure it is still private.
      await handle.chmod(0o600);
      this.size = (await handle.stat()).size;
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
    this.handle = handle;
    if (this.options.openFiles) this.options.openFiles.count++;
  }

  private async rotate(): Promise<void> {
    await this.closeHandle();
    await rotateLogFiles(this.options.dir, this.options.deviceId, this.options.files);
    await this.openCurrent();
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle && this.options.openFiles) this.options.openFiles.count--;
    await handle?.close().catch((err: unknown) => this.failed(err));
  }

  /** Logs the first error of a streak only: a dead disk must not flood the relay's log. */
  private failed(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.error(
      { event: 'console-log.error', path: this.path, err },
      'cannot write the console log; output is kept in memory for a while, then dropped',
    );
  }
}

function pendingLength(item: Pending): number {
  return item.kind === 'data' ? item.bytes.length : 0;
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let done = 0;
  while (done < data.length) done += (await handle.write(data, done, data.length - done)).bytesWritten;
}

/** `\r\n[lifeline 2026-11-21T03:00:00Z] text\r\n`, with control characters in `text` blanked. */
export function noteLine(at: number, text: string): string {
  const stamp = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  // eslint-disable-next-line no-control-regex -- blanking control characters is the point
  return `\r\n[lifeline ${stamp}] ${text.replace(/[\x00-\x1f\x7f]/g, ' ')}\r\n`;
}
