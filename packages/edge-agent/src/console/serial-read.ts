import { read } from 'node:fs';
import type { SerialBindingPort } from './serial-binding.js';

/** What bindings-cpp's Linux and macOS port objects expose besides the interface: the fd and its poller. */
interface PolledPort {
  fd: number | null;
  poller: { once(event: 'readable', listener: (err: Error | null) => void): unknown };
}

export type FsRead = (fd: number, buffer: Buffer) => Promise<number>;

const fsRead: FsRead = (fd, buffer) =>
  new Promise((resolve, reject) => read(fd, buffer, 0, buffer.length, null, (err, n) => (err ? reject(err) : resolve(n))));

/**
 * One read of at least one byte from an open serial port.
 *
 * Why not `port.read()`: bindings-cpp 13's unixRead retries a zero-byte read at once, forever
 * (serialport/bindings-cpp#162). A raw tty (VMIN=1, non-blocking) returns 0 only after a hangup,
 * which is exactly what an unplugged USB adapter (or a pty whose other side closed) gives, so the
 * agent would spin and never learn the console is gone. Here a zero-byte read is the end of the
 * line and rejects with `hangup: true`. Ports without an fd and poller (the mock binding) use
 * their own read.
 */
export async function readSerial(port: SerialBindingPort, buffer: Buffer, readFd: FsRead = fsRead): Promise<number> {
  if (!isPolled(port)) {
    const { bytesRead } = await port.read(buffer, 0, buffer.length);
    return bytesRead;
  }
  for (;;) {
    if (port.fd === null) throw closed();
    let n: number;
    try {
      n = await readFd(port.fd, buffer);
    } catch (err) {
      if (!isWouldBlock(err)) throw err;
      // Closed while fs.read was out: polling a destroyed poller crashes the process.
      if (port.fd === null) throw closed();
      await new Promise<void>((resolve, reject) => port.poller.once('readable', (e) => (e ? reject(e) : resolve())));
      continue;
    }
    if (n === 0) throw Object.assign(new Error('the serial line hung up (end of file)'), { hangup: true });
    return n;
  }
}

function closed(): Error {
  return Object.assign(new Error('serial port is closed'), { canceled: true });
}

function isPolled(port: SerialBindingPort): port is SerialBindingPort & PolledPort {
  const p = port as Partial<PolledPort>;
  return (typeof p.fd === 'number' || p.fd === null) && typeof p.poller?.once === 'function';
}

function isWouldBlock(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR';
}
