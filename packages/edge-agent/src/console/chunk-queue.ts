/**
 * A bounded FIFO of byte chunks between one producer and one reader: what a console port holds
 * between the device and whoever reads it. The producer awaits `room()` before pushing more, so
 * nothing buffers without a bound. `next()` hands over everything queued, joined into one chunk
 * of at most `joinBytes` (a chunk longer than that alone comes whole): when the reader falls
 * behind (the SSH channel is slower than the port), the many small reads waiting become one
 * large channel write instead of one SSH packet each.
 *
 * `end(err)` finishes the queue: a pending `next()` rejects with `err`, later ones return what is
 * still queued (unless discarded) and then reject with `err`; producers waiting for room reject too.
 */
export class ChunkQueue {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private reader: Waiter<Buffer> | undefined;
  private roomWaiters: Array<Waiter<void>> = [];
  private endedWith: Error | undefined;

  /**
   * @param limit bytes held before `room()` makes the producer wait
   * @param joinBytes most bytes `next()` joins into one chunk
   */
  constructor(
    private readonly limit: number,
    private readonly joinBytes = 64 * 1024,
  ) {
    if (!(limit > 0)) throw new RangeError(`ChunkQueue limit must be positive, got ${limit}`);
  }

  /** Bytes queued and not yet read. */
  get size(): number {
    return this.bytes;
  }

  get hasRoom(): boolean {
    return this.bytes < this.limit;
  }

  get ended(): boolean {
    return this.endedWith !== undefined;
  }

  /** Queues a chunk (or hands it straight to a waiting reader). Ignored once ended or empty. */
  push(chunk: Buffer): void {
    if (this.endedWith || chunk.length === 0) return;
    const reader = this.reader;
    if (reader) {
      this.reader = undefined;
      reader.resolve(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /**
   * What is queued, in order, joined up to `joinBytes`. Only one may be pending: a second
   * concurrent call rejects (a caller bug).
   */
  next(): Promise<Buffer> {
    if (this.reader) return Promise.reject(new Error('a console read is already pending'));
    if (this.chunks.length > 0) {
      let count = 1;
      let length = this.chunks[0]!.length;
      while (count < this.chunks.length && length + this.chunks[count]!.length <= this.joinBytes) length += this.chunks[count++]!.length;
      const taken = this.chunks.splice(0, count);
      this.bytes -= length;
      this.wakeProducers();
      return Promise.resolve(count === 1 ? taken[0]! : Buffer.concat(taken, length));
    }
    if (this.endedWith) return Promise.reject(this.endedWith);
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
    });
  }

  /** Takes everything queued at once, without waiting (empty when nothing is queued). */
  takeQueued(): Buffer {
    const out = Buffer.concat(this.chunks);
    this.chunks = [];
    this.bytes = 0;
    this.wakeProducers();
    return out;
  }

  /** Resolves once the queue is below its limit; rejects with the end error once ended. */
  room(): Promise<void> {
    if (this.endedWith) return Promise.reject(this.endedWith);
    if (this.hasRoom) return Promise.resolve();
    return new Promise((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
  }

  /** Ends the queue with `err`; the first end wins. `discard` drops what is still queued. */
  end(err: Error, options: { discard?: boolean } = {}): void {
    if (this.endedWith) return;
    this.endedWith = err;
    if (options.discard) {
      this.chunks = [];
      this.bytes = 0;
    }
    const reader = this.reader;
    this.reader = undefined;
    reader?.reject(err);
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w.reject(err);
  }

  private wakeProducers(): void {
    if (!this.hasRoom) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w.resolve();
  }
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}
