/**
 * Bounds how many file operations on the relay's state disk run at once. Node runs file system
 * calls on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise), the same
 * pool scrypt uses for password logins. A frozen or hung disk holds each call's thread until it
 * answers, so without a bound a few recordings and console logs waiting on it would take every
 * thread and no password could be checked. Recordings, console logs and retention all go
 * through one gate per relay, so at most `limit` threads ever wait on that disk.
 */
export class DiskGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  /** `limit` operations at once; Infinity (tests) gates nothing. */
  constructor(readonly limit: number) {}

  /** Runs `op` once fewer than `limit` operations are running; settles as `op` does. */
  async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await op();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter: `running` stays the same.
      if (next) next();
      else this.running--;
    }
  }

  /** Operations waiting for a slot (for tests and status). */
  get queued(): number {
    return this.waiting.length;
  }
}

/** Gates nothing: for tests and tools that are not the relay. */
export const ungatedDisk = new DiskGate(Number.POSITIVE_INFINITY);

/**
 * Slots the relay gives its state disk: two, so that with Node's default four pool threads two
 * stay free for password hashing (at most `passwordChecksInFlight`, default 2, run at once) and
 * everything else, however long the disk hangs.
 */
export const RELAY_DISK_SLOTS = 2;
