import { describe, expect, it } from 'vitest';
import { ChunkQueue } from './chunk-queue.js';

const b = (s: string) => Buffer.from(s);

describe('ChunkQueue', () => {
  it('hands chunks to the reader in order, straight through when a read waits', async () => {
    const q = new ChunkQueue(100);
    const waiting = q.next();
    q.push(b('one'));
    q.push(b('two'));
    expect((await waiting).toString()).toBe('one');
    expect(q.size).toBe(3);
    expect((await q.next()).toString()).toBe('two');
  });

  it('makes the producer wait at the limit until the reader takes a chunk', async () => {
    const q = new ChunkQueue(4);
    q.push(b('abcd'));
    let room = false;
    const waiting = q.room().then(() => (room = true));
    await Promise.resolve();
    expect(room).toBe(false);
    await q.next();
    await waiting;
    expect(room).toBe(true);
  });

  it('refuses a second concurrent read', async () => {
    const q = new ChunkQueue(10);
    void q.next().catch(() => undefined);
    await expect(q.next()).rejects.toThrow('already pending');
  });

  it('delivers what is queued after end, then the end error, unless discarded', async () => {
    const gone = new Error('gone');
    const kept = new ChunkQueue(10);
    kept.push(b('last'));
    kept.end(gone);
    expect((await kept.next()).toString()).toBe('last');
    await expect(kept.next()).rejects.toBe(gone);

    const dropped = new ChunkQueue(10);
    dropped.push(b('last'));
    dropped.end(gone, { discard: true });
    await expect(dropped.next()).rejects.toBe(gone);
  });

  it('rejects a waiting reader and waiting producers on end; the first end wins', async () => {
    const q = new ChunkQueue(1);
    const reader = q.next();
    const first = new Error('first');
    q.end(first);
    q.end(new Error('second'));
    await expect(reader).rejects.toBe(first);
    const full = new ChunkQueue(1);
    full.push(b('x'));
    const producer = full.room();
    full.end(first);
    await expect(producer).rejects.toBe(first);
    full.push(b('ignored'));
    expect(full.size).toBe(1);
  });

  it('takes everything queued at once without waiting', () => {
    const q = new ChunkQueue(10);
    q.push(b('ab'));
    q.push(b('cd'));
    expect(q.takeQueued().toString()).toBe('abcd');
    expect(q.size).toBe(0);
  });

  it('joins what queued while the reader was busy into one chunk, up to joinBytes, in order', async () => {
    const q = new ChunkQueue(1000, 8);
    for (const s of ['ab', 'cd', 'ef', 'gh', 'ij', 'klmnopqrst', 'u']) q.push(b(s));
    expect((await q.next()).toString()).toBe('abcdefgh');
    // A chunk longer than joinBytes is not cut, and nothing after it is joined to it.
    expect((await q.next()).toString()).toBe('ij');
    expect((await q.next()).toString()).toBe('klmnopqrst');
    expect((await q.next()).toString()).toBe('u');
    expect(q.size).toBe(0);
  });
});
