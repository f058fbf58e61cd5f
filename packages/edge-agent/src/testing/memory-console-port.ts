import { LifelineError } from '@lifeline/shared/core';
import { ChunkQueue } from '../console/chunk-queue.js';
import type { ConsolePort } from '../console/console-port.js';

export interface MemoryConsolePortOptions {
  /** Default `memory console`. */
  description?: string;
  /** Bytes each direction holds before the writer waits (default 64 KiB). */
  bufferBytes?: number;
}

/**
 * A ConsolePort in memory, for tests. The test plays the device through `port.far`: it injects
 * output, reads what the port wrote, watches BREAK, unplugs the "adapter" and makes it absent.
 * Both directions are bounded, so an awaited write waits for the other side as a real line does.
 */
export class MemoryConsolePort implements ConsolePort {
  readonly description: string;
  readonly far: MemoryFarEnd;
  private readonly bufferBytes: number;
  /** The current (or last) open session; ended once closed or unplugged. */
  private link: Link | undefined;

  constructor(options: MemoryConsolePortOptions = {}) {
    this.description = options.description ?? 'memory console';
    this.bufferBytes = options.bufferBytes ?? 64 * 1024;
    this.far = new MemoryFarEnd(this, this.bufferBytes);
  }

  get isOpen(): boolean {
    return this.link !== undefined && !this.link.ended;
  }

  async open(): Promise<void> {
    if (this.isOpen) throw new Error(`${this.description} is already open`);
    this.far.openCount += 1;
    if (!this.far.present) {
      throw new LifelineError('CONSOLE_NOT_PRESENT', `${this.description} is not present`);
    }
    this.link = new Link(new ChunkQueue(this.bufferBytes));
  }

  read(): Promise<Buffer> {
    if (!this.link) return Promise.reject(canceled(this.description));
    return this.link.toPort.next();
  }

  async write(data: Buffer): Promise<void> {
    const link = this.openLink();
    for (let at = 0; at < data.length; at += this.bufferBytes) {
      await link.until(this.far.toFar.room());
      if (link.error) throw link.error;
      this.far.toFar.push(Buffer.from(data.subarray(at, at + this.bufferBytes)));
    }
  }

  async setBreak(on: boolean): Promise<void> {
    this.openLink();
    if (this.far.refuseBreak) {
      throw new LifelineError('CONSOLE_BREAK_FAILED', `${this.description} cannot send a break`);
    }
    this.far.recordBreak(on);
  }

  async close(): Promise<void> {
    if (this.isOpen) this.link?.end(canceled(this.description), true);
  }

  /** @internal The far end's view of the current session. */
  currentLink(): Link | undefined {
    return this.isOpen ? this.link : undefined;
  }

  private openLink(): Link {
    const link = this.link;
    if (!link || link.ended) throw link?.error ?? canceled(this.description);
    return link;
  }
}

/** The device side of a MemoryConsolePort. */
export class MemoryFarEnd {
  /** False: `open()` rejects with CONSOLE_NOT_PRESENT, as for an unplugged USB adapter. */
  present = true;
  /** True: `setBreak()` rejects with CONSOLE_BREAK_FAILED, as for an adapter without break support. */
  refuseBreak = false;
  /** How many times `open()` was called, present or not. */
  openCount = 0;
  /** Every change of the BREAK condition, in order: `true` raised, `false` cleared. */
  readonly breakTransitions: boolean[] = [];
  /** @internal What the port wrote and the device has not read yet. */
  readonly toFar: ChunkQueue;
  private buffered = Buffer.alloc(0);
  private pending: Promise<Buffer> | undefined;
  private breakOn = false;

  constructor(
    private readonly port: MemoryConsolePort,
    private readonly bufferBytes: number,
  ) {
    this.toFar = new ChunkQueue(bufferBytes);
  }

  /** Is a BREAK raised right now? */
  get inBreak(): boolean {
    return this.breakOn;
  }

  /** How many BREAKs have begun. */
  breaks(): number {
    return this.breakTransitions.filter((on) => on).length;
  }

  /**
   * Device output towards the port. Waits while the port's read buffer is full; output sent while
   * the port is closed is lost, as on a real line.
   */
  async write(data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    for (let at = 0; at < bytes.length; at += this.bufferBytes) {
      const link = this.port.currentLink();
      if (!link) return;
      try {
        await link.toPort.room();
      } catch {
        return;
      }
      link.toPort.push(Buffer.from(bytes.subarray(at, at + this.bufferBytes)));
    }
  }

  /** The next `n` bytes the port wrote; rejects after `timeoutMs`. */
  async readExactly(n: number, timeoutMs = 5_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < n) {
      this.pending ??= this.toFar.next();
      const chunk = await raceDeadline(this.pending, deadline, () => `far end got ${this.buffered.length} of ${n} bytes`);
      this.pending = undefined;
      this.buffered = Buffer.concat([this.buffered, chunk]);
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  /** Everything the port wrote that has not been read yet, without waiting. */
  takeWritten(): Buffer {
    // A chunk already handed to a pending readExactly() stays with it.
    const out = Buffer.concat([this.buffered, this.toFar.takeQueued()]);
    this.buffered = Buffer.alloc(0);
    return out;
  }

  /** The adapter vanishes: a pending read rejects CONSOLE_DISCONNECTED, the port closes, and stays absent until `plug()`. */
  unplug(): void {
    this.present = false;
    this.port.currentLink()?.end(new LifelineError('CONSOLE_DISCONNECTED', `${this.port.description} was disconnected`), false);
  }

  /** The adapter is back: the next `open()` succeeds. */
  plug(): void {
    this.present = true;
  }

  /** @internal */
  recordBreak(on: boolean): void {
    if (on === this.breakOn) return;
    this.breakOn = on;
    this.breakTransitions.push(on);
  }
}

/** One open session: ending it cancels the port's pending read and any write waiting for room. */
class Link {
  error: Error | undefined;
  private readonly endedPromise: Promise<never>;
  private rejectEnded!: (err: Error) => void;

  constructor(readonly toPort: ChunkQueue) {
    this.endedPromise = new Promise<never>((_, reject) => (this.rejectEnded = reject));
    this.endedPromise.catch(() => undefined);
  }

  get ended(): boolean {
    return this.error !== undefined;
  }

  until<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.endedPromise]);
  }

  end(err: Error, discard: boolean): void {
    if (this.error) return;
    this.error = err;
    this.toPort.end(err, { discard });
    this.rejectEnded(err);
  }
}

function canceled(description: string): LifelineError {
  return new LifelineError('CONSOLE_CANCELED', `${description} is closed`);
}

function raceDeadline<T>(p: Promise<T>, deadline: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()} in time`)), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
