/** How many password hashes may run at once. */
export interface HashGateConfig {
  /** For one source address. */
  perAddress: number;
  /** For the whole relay. */
  total: number;
}

interface Waiter {
  address: string;
  start(): void;
}

/**
 * Bounds scrypt work: at most `perAddress` hashes in flight for one source address and `total`
 * for the relay; the rest wait in arrival order, and a waiter whose address is at its cap lets
 * the next one from another address pass. So a flood from one address keeps at most
 * `perAddress` of the slots and a login from elsewhere starts at once. Each waiter belongs to a
 * connection that is waiting for its answer, so the queue is as bounded as the connections are.
 */
export class HashGate {
  private running = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly waiting: Waiter[] = [];
  /** Hashes started so far. */
  started = 0;
  /** The most that ever ran at once (for tests and status). */
  peak = 0;

  constructor(private readonly config: HashGateConfig) {}

  /**
   * Runs `work` once `address` and the relay are under their caps. Rejects with the signal's
   * reason, without running `work`, if `signal` aborts (the client hung up) while waiting.
   */
  run<T>(address: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const waiter: Waiter = {
        address,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.enter(address);
          work()
            .then(resolve, reject)
            .finally(() => {
              this.leave(address);
              this.pump();
            });
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.pump();
    });
  }

  /** Hashes waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  private pump(): void {
    for (let i = 0; i < this.waiting.length && this.running < this.config.total;) {
      const waiter = this.waiting[i]!;
      if ((this.byAddress.get(waiter.address) ?? 0) >= this.config.perAddress) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      waiter.start();
    }
  }

  private enter(address: string): void {
    this.running++;
    this.started++;
    this.peak = Math.max(this.peak, this.running);
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
  }

  private leave(address: string): void {
    this.running--;
    const n = (this.byAddress.get(address) ?? 1) - 1;
    if (n === 0) this.byAddress.delete(address);
    else this.byAddress.set(address, n);
  }
}
