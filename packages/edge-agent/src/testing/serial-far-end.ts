import { platformSerialBinding, type SerialBinding, type SerialBindingPort } from '../console/serial-binding.js';
import { readSerial } from '../console/serial-read.js';

/**
 * The device side of a real serial line in tests (e.g. the `b` end of a socat pty pair), opened
 * with the serial binding so reads never block a libuv thread. Satisfies the contract's FarEnd.
 */
export class SerialFarEnd {
  private buffered = Buffer.alloc(0);
  private pending: Promise<Buffer> | undefined;
  private readonly scratch = Buffer.alloc(64 * 1024);

  private constructor(private readonly handle: SerialBindingPort) {}

  static async open(path: string, binding: SerialBinding = platformSerialBinding()): Promise<SerialFarEnd> {
    const handle = await binding.open({
      path,
      baudRate: 115_200,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
      lock: false,
    });
    return new SerialFarEnd(handle);
  }

  write(data: Buffer | string): Promise<void> {
    return this.handle.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next `n` bytes from the line; rejects after `timeoutMs` (what arrived stays for the next call). */
  async readExactly(n: number, timeoutMs = 5_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < n) {
      this.pending ??= readSerial(this.handle, this.scratch).then((k) => Buffer.from(this.scratch.subarray(0, k)));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`far end got ${this.buffered.length} of ${n} bytes in ${timeoutMs} ms`)),
          Math.max(0, deadline - Date.now()),
        );
      });
      const chunk = await Promise.race([this.pending, timeout]).finally(() => clearTimeout(timer));
      this.pending = undefined;
      this.buffered = Buffer.concat([this.buffered, chunk]);
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  async close(): Promise<void> {
    this.pending?.catch(() => undefined);
    if (this.handle.isOpen) await this.handle.close();
  }
}
