import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { SerialBindingPort } from './serial-binding.js';
import { readSerial, type FsRead } from './serial-read.js';

/** A port shaped like bindings-cpp's Linux one: an fd and a poller whose 'readable' the test fires. */
function polledPort(): SerialBindingPort & { fd: number | null; poller: EventEmitter } {
  const unused = () => Promise.reject(new Error('not used'));
  return { isOpen: true, fd: 42, poller: new EventEmitter(), read: unused, write: unused, set: unused, get: unused, close: unused };
}

function wouldBlock(): Error {
  return Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
}

describe('readSerial', () => {
  it('treats a zero-byte read as a hangup instead of retrying it', async () => {
    let calls = 0;
    const eof: FsRead = async () => {
      calls += 1;
      return 0;
    };
    await expect(readSerial(polledPort(), Buffer.alloc(8), eof)).rejects.toMatchObject({ hangup: true });
    expect(calls).toBe(1);
  });

  it('waits for the poller when the tty has nothing yet, then reads', async () => {
    const port = polledPort();
    const results: Array<() => Promise<number>> = [
      async () => {
        throw wouldBlock();
      },
      async () => 3,
    ];
    const reads: FsRead = () => results.shift()!();
    const read = readSerial(port, Buffer.alloc(8), reads);
    await new Promise((r) => setTimeout(r, 5));
    expect(port.poller.listenerCount('readable')).toBe(1);
    port.poller.emit('readable', null);
    expect(await read).toBe(3);
  });

  it('does not poll a port closed while the read was out', async () => {
    const port = polledPort();
    const read = readSerial(port, Buffer.alloc(8), async () => {
      port.fd = null;
      throw wouldBlock();
    });
    await expect(read).rejects.toMatchObject({ canceled: true });
    expect(port.poller.listenerCount('readable')).toBe(0);
  });

  it('passes a poller error on (a tty that reports POLLERR)', async () => {
    const port = polledPort();
    const read = readSerial(port, Buffer.alloc(8), async () => {
      throw wouldBlock();
    });
    await new Promise((r) => setTimeout(r, 5));
    port.poller.emit('readable', new Error('bad file descriptor'));
    await expect(read).rejects.toThrow('bad file descriptor');
  });
});
