import { readSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SerialBindingPort } from './serial-binding.js';

/** What bindings-cpp's Linux and macOS port objects expose besides the interface: the fd and its poller. */
interface PolledPort {
  fd: number | null;
  poller: { once(event: 'readable', listener: (err: Error | null) => void): unknown };
}

/**
 * One non-blocking read into `buffer` from `offset` to its end: the bytes read, 0 at end of file;
 * throws (EAGAIN) when the tty has nothing now. Default `fs.readSync`.
 */
export type ReadNow = (fd: number, buffer: Buffer, offset: number) => number;

const readNow: ReadNow = (fd, buffer, offset) => readSync(fd, buffer, offset, buffer.length - offset, null);

/**
 * Reads what an open serial port has (at least one byte, at most `buffer.length`).
 *
 * On the event loop, not the thread pool (issue 11): bindings-cpp opens the tty non-blocking, so
 * `readSync` returns at once with what the kernel holds or EAGAIN, and the port's poller says when
 * there is more. `port.read()` (and an `fs.read` per chunk) costs a thread-pool round trip per
 * read, and a tty read gives at most about 4 KiB (a pty exactly 4096 bytes): 256 round trips per
 * MiB. Here one call keeps reading until the buffer is full or the tty is empty, so a 16 KiB
 * buffer takes four tty reads into one chunk (one channel write instead of four).
 *
 * Each call first yields to the event loop (setImmediate), so a device that never pauses cannot
 * starve the relay connection, timers or people's input of their turn.
 *
 * Why not `port.read()` either: bindings-cpp 13's unixRead retries a zero-byte read at once,
 * forever (serialport/bindings-cpp#162). A raw tty (VMIN=1, non-blocking) returns 0 only after a
 * hangup, which is exactly what an unplugged USB adapter (or a pty whose other side closed)
 * gives, so the agent would spin and never learn the console is gone. Here a zero-byte read is
 * the end of the line and rejects with `hangup: true` (after the bytes read before it are
 * returned). Ports without an fd and poller (the mock binding) use their own read.
 */
export async function readSerial(port: SerialBindingPort, buffer: Buffer, read: ReadNow = readNow): Promise<number> {
  if (!isPolled(port)) {
    const { bytesRead } = await port.read(buffer, 0, buffer.length);
    return bytesRead;
  }
  await nextTurn();
  for (;;) {
    if (port.fd === null) throw closed();
    const n = fill(port.fd, buffer, read);
    if (n > 0) return n;
    // Closed meanwhile: polling a destroyed poller crashes the process.
    if (port.fd === null) throw closed();
    await new Promise<void>((resolve, reject) => port.poller.once('readable', (e) => (e ? reject(e) : resolve())));
  }
}

/**
 * Reads until `buffer` is full or the tty has nothing more: the bytes read, 0 when it had none.
 * An end of file or error after some bytes returns those bytes; the next read meets it again
 * (a hung-up tty keeps reading 0, a bad fd keeps failing).
 */
function fill(fd: number, buffer: Buffer, read: ReadNow): number {
  let filled = 0;
  while (filled < buffer.length) {
    let n: number;
    try {
      n = read(fd, buffer, filled);
    } catch (err) {
      if (isWouldBlock(err)) return filled;
      if (filled > 0) return filled;
      throw err;
    }
    if (n === 0) {
      if (filled > 0) return filled;
      throw Object.assign(new Error('the serial line hung up (end of file)'), { hangup: true });
    }
    filled += n;
  }
  return filled;
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
