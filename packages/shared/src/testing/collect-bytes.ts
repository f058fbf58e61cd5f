import type { EventEmitter } from 'node:events';

/**
 * Gathers `data` events of an emitter (a socket, a TelnetEndpoint) and resolves once `n` bytes
 * arrived, or rejects with how far it got after `timeoutMs`.
 */
export class ByteCollector {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiter: { n: number; resolve: (b: Buffer) => void } | undefined;

  constructor(source: Pick<EventEmitter, 'on'>) {
    source.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.check();
    });
  }

  /** Bytes received so far and not yet taken. */
  get received(): number {
    return this.length;
  }

  /** Everything received so far and not yet taken, without taking it. */
  peek(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves with exactly the next `n` bytes. */
  take(n: number, timeoutMs = 5_000): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error('take() already pending'));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`got ${this.length} of ${n} bytes within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        n,
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
      };
      this.check();
    });
  }

  private check(): void {
    const waiter = this.waiter;
    if (!waiter || this.length < waiter.n) return;
    this.waiter = undefined;
    const all = Buffer.concat(this.chunks);
    const rest = all.subarray(waiter.n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    waiter.resolve(all.subarray(0, waiter.n));
  }
}
