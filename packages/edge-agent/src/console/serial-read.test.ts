import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSocatPtyPair } from '../testing/index.js';
import { platformSerialBinding, type SerialBindingPort } from './serial-binding.js';
import { readSerial, type ReadNow } from './serial-read.js';

/** A port shaped like bindings-cpp's Linux one: an fd and a poller whose 'readable' the test fires. */
function polledPort(): SerialBindingPort & { fd: number | null; poller: EventEmitter } {
  const unused = () => Promise.reject(new Error('not used'));
  return { isOpen: true, fd: 42, poller: new EventEmitter(), read: unused, write: unused, set: unused, get: unused, close: unused };
}

function wouldBlock(): Error {
  return Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
}

/** A tty that hands out `script` in turn: a byte string read (at most what fits), 0 for end of file, null for EAGAIN (nothing now). */
function scriptedTty(script: Array<string | 0 | null>): ReadNow & { calls: number } {
  const read = (_fd: number, buffer: Buffer, offset: number): number => {
    read.calls += 1;
    const step = script.shift();
    if (step === undefined || step === null) throw wouldBlock();
    if (step === 0) return 0;
    return buffer.write(step, offset);
  };
  read.calls = 0;
  return read;
}

describe('readSerial', () => {
  it('treats a zero-byte read as a hangup instead of retrying it', async () => {
    const tty = scriptedTty([0]);
    await expect(readSerial(polledPort(), Buffer.alloc(8), tty)).rejects.toMatchObject({ hangup: true });
    expect(tty.calls).toBe(1);
  });

  it('waits for the poller when the tty has nothing yet, then reads', async () => {
    const port = polledPort();
    const buffer = Buffer.alloc(8);
    const read = readSerial(port, buffer, scriptedTty([null, 'abc', null]));
    await new Promise((r) => setTimeout(r, 5));
    expect(port.poller.listenerCount('readable')).toBe(1);
    port.poller.emit('readable', null);
    expect(await read).toBe(3);
    expect(buffer.subarray(0, 3).toString()).toBe('abc');
  });

  it('keeps reading until the tty is empty, so small tty reads become one chunk', async () => {
    const buffer = Buffer.alloc(16);
    const tty = scriptedTty(['abcd', 'efgh', 'ij', null, 'later']);
    expect(await readSerial(polledPort(), buffer, tty)).toBe(10);
    expect(buffer.subarray(0, 10).toString()).toBe('abcdefghij');
    expect(tty.calls).toBe(4);
  });

  it('stops reading once the buffer is full', async () => {
    const buffer = Buffer.alloc(8);
    const tty = scriptedTty(['abcd', 'efgh', 'more']);
    expect(await readSerial(polledPort(), buffer, tty)).toBe(8);
    expect(buffer.toString()).toBe('abcdefgh');
    expect(tty.calls).toBe(2);
  });

  it('returns the bytes read before a hangup, then reports the hangup', async () => {
    const buffer = Buffer.alloc(16);
    const tty = scriptedTty(['last words', 0, 0]);
    expect(await readSerial(polledPort(), buffer, tty)).toBe(10);
    expect(buffer.subarray(0, 10).toString()).toBe('last words');
    await expect(readSerial(polledPort(), buffer, tty)).rejects.toMatchObject({ hangup: true });
  });

  it('returns the bytes read before an error, then reports the error', async () => {
    const buffer = Buffer.alloc(16);
    let calls = 0;
    const tty: ReadNow = (_fd, b, offset) => {
      calls += 1;
      if (calls === 1) return b.write('data', offset);
      throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    };
    expect(await readSerial(polledPort(), buffer, tty)).toBe(4);
    await expect(readSerial(polledPort(), buffer, tty)).rejects.toMatchObject({ code: 'EIO' });
  });

  it('yields to the event loop before reading, so a device that never pauses cannot starve it', async () => {
    let turned = false;
    setImmediate(() => (turned = true));
    let turnedBeforeRead: boolean | undefined;
    const tty: ReadNow = (_fd, b, offset) => {
      turnedBeforeRead ??= turned;
      return b.write('x', offset);
    };
    await readSerial(polledPort(), Buffer.alloc(4), tty);
    expect(turnedBeforeRead).toBe(true);
  });

  it('does not poll a port closed while it was reading', async () => {
    const port = polledPort();
    const read = readSerial(port, Buffer.alloc(8), () => {
      port.fd = null;
      throw wouldBlock();
    });
    await expect(read).rejects.toMatchObject({ canceled: true });
    expect(port.poller.listenerCount('readable')).toBe(0);
  });

  it('passes a poller error on (a tty that reports POLLERR)', async () => {
    const port = polledPort();
    const read = readSerial(port, Buffer.alloc(8), scriptedTty([null]));
    await new Promise((r) => setTimeout(r, 5));
    port.poller.emit('readable', new Error('bad file descriptor'));
    await expect(read).rejects.toThrow('bad file descriptor');
  });

  it('reads a real pty in chunks larger than one tty read (4 KiB), every byte in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lifeline-serial-read-'));
    const pty = await startSocatPtyPair(dir);
    const port = await platformSerialBinding().open({
      path: pty.a,
      baudRate: 115_200,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
      lock: true,
    });
    const device = await open(pty.b, 'w');
    try {
      const payload = randomBytes(48 * 1024);
      // Not awaited: the pty pair holds less than the payload until the port reads.
      const written = device.write(payload);
      // Let socat move bytes across, so the tty holds more than one read's worth.
      await new Promise((r) => setTimeout(r, 300));
      const buffer = Buffer.alloc(16 * 1024);
      const chunks: Buffer[] = [];
      let got = 0;
      while (got < payload.length) {
        const n = await readSerial(port, buffer);
        chunks.push(Buffer.from(buffer.subarray(0, n)));
        got += n;
      }
      await written;
      expect(Buffer.concat(chunks).equals(payload)).toBe(true);
      expect(Math.max(...chunks.map((c) => c.length))).toBeGreaterThan(4096);
    } finally {
      await device.close();
      await port.close();
      await pty.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 10_000);
});
