import { SerialPort } from 'serialport';
import { waitFor } from './wait.js';

/** The device end of a pty pair, opened with serialport like any tty. */
export class SerialDevice {
  private received: Buffer[] = [];

  private constructor(private readonly port: SerialPort) {
    port.on('data', (d: Buffer) => this.received.push(d));
  }

  static async open(path: string): Promise<SerialDevice> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new SerialDevice(port);
  }

  bytes(): Buffer {
    return Buffer.concat(this.received);
  }

  clear(): void {
    this.received = [];
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(data, (err) => (err ? reject(err) : this.port.drain((e) => (e ? reject(e) : resolve()))));
    });
  }

  waitForBytes(n: number, timeoutMs = 10_000): Promise<Buffer> {
    return waitFor(() => `${n} bytes at the device (have ${this.bytes().length})`, () => (this.bytes().length >= n ? this.bytes() : undefined), timeoutMs);
  }

  waitForText(text: string, timeoutMs = 10_000): Promise<string> {
    return waitFor(() => `"${text}" at the device (have ${JSON.stringify(this.bytes().toString('latin1').slice(-200))})`, () => {
      const s = this.bytes().toString('latin1');
      return s.includes(text) ? s : undefined;
    }, timeoutMs);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}
