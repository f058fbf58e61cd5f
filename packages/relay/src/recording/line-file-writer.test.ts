import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineFileWriter, type LineFileWriterOptions, type WriterStatus } from './line-file-writer.js';
import { createWithFirstLine, type CreatedFile } from './recording-file.js';

describe('LineFileWriter', () => {
  let dir: string;
  let reports: string[];
  let clock: FakeClock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-lines-'));
    reports = [];
    clock = new FakeClock(1_000_000);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function status(s: WriterStatus): string {
    return s.writing ? `writing, lost ${s.lost}` : `stopped: ${s.reason}`;
  }

  function writer(path: string, overrides: Partial<LineFileWriterOptions> = {}): LineFileWriter {
    return new LineFileWriter({
      create: () => createWithFirstLine(path, 0o600, Buffer.from('head\n')),
      maxQueuedBytes: 1024,
      gapLine: (lost) => `gap ${lost}\n`,
      onStatus: (s) => reports.push(status(s)),
      onOverflow: (queued) => reports.push(`overflow at ${queued}`),
      clock,
      retryMs: 5_000,
      stallMs: 5_000,
      ...overrides,
    });
  }

  it('writes the first line, then lines in the order given', async () => {
    const path = join(dir, 'a');
    const w = writer(path, { maxQueuedBytes: 64 * 1024 });
    for (let i = 0; i < 200; i++) w.write(Buffer.from(`line ${i}\n`));
    await w.close();
    const expected = Array.from({ length: 200 }, (_, i) => `line ${i}\n`).join('');
    expect(await readFile(path, 'utf8')).toBe(`head\n${expected}`);
    expect(reports).toEqual(['writing, lost 0']);
  });

  it('refuses to overwrite an existing file, leaves no temporary file and reports why', async () => {
    const path = join(dir, 'taken');
    await writeFile(path, 'keep me');
    const w = writer(path);
    w.write(Buffer.from('x\n'));
    await w.flush();
    expect(await readFile(path, 'utf8')).toBe('keep me');
    expect(await readdir(dir)).toEqual(['taken']);
    expect(reports).toEqual(['stopped: the relay cannot write the recording (EEXIST)']);
  });

  it('drops lines past the queue bound while a write is in flight, reports once, and marks the gap where it was', async () => {
    const path = join(dir, 'slow');
    const w = writer(path, { maxQueuedBytes: 11 });
    w.write(Buffer.from('first\n')); // waits for the file
    w.write(Buffer.from('second\n')); // 13 > 11: dropped
    w.write(Buffer.from('third\n')); // 12 > 11: dropped
    await w.flush();
    w.write(Buffer.from('fourth\n'));
    await w.close();
    expect(await readFile(path, 'utf8')).toBe('head\nfirst\ngap 2\nfourth\n');
    expect(reports).toEqual(['overflow at 6', 'writing, lost 0']);
  });

  it('tells the caller when there is no room, so it can skip encoding, and counts what it drops', async () => {
    const path = join(dir, 'room');
    const w = writer(path, { maxQueuedBytes: 10 });
    expect(w.hasRoomFor(10)).toBe(true);
    expect(w.hasRoomFor(11)).toBe(false);
    w.drop();
    await w.close();
    expect(await readFile(path, 'utf8')).toBe('head\ngap 1\n');
  });

  it('never leaves a file without its first line: a creation that fails makes no file, and a retry after retryMs makes it with a gap line first', async () => {
    const path = join(dir, 'full');
    let fail = true;
    const w = writer(path, {
      create: async (): Promise<CreatedFile> => {
        if (fail) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return createWithFirstLine(path, 0o600, Buffer.from('head\n'));
      },
      retryMs: 5_000,
    });
    w.write(Buffer.from('lost 1\n')); // queued for the file, lost with its creation
    await w.flush();
    w.write(Buffer.from('waits\n')); // queued (within the bound) until the retry
    await w.flush();
    expect(await readdir(dir)).toEqual([]);
    expect(reports).toEqual(['stopped: the recordings disk is full']);
    fail = false;
    await clock.advance(5_000);
    w.write(Buffer.from('kept\n'));
    await w.close();
    expect(await readFile(path, 'utf8')).toBe('head\ngap 1\nwaits\nkept\n');
    expect(reports).toEqual(['stopped: the recordings disk is full', 'writing, lost 1']);
  });

  it('reports a creation that does not answer within stallMs as stopped, and resumes when it does', async () => {
    const path = join(dir, 'frozen');
    let thaw!: () => void;
    const frozen = new Promise<void>((resolve) => (thaw = resolve));
    const w = writer(path, {
      create: async () => {
        await frozen;
        return createWithFirstLine(path, 0o600, Buffer.from('head\n'));
      },
      stallMs: 5_000,
    });
    w.write(Buffer.from('early\n'));
    await clock.advance(5_000);
    expect(reports).toEqual(['stopped: the recordings disk does not answer']);
    thaw();
    await w.close();
    expect(await readFile(path, 'utf8')).toBe('head\nearly\n');
    expect(reports).toEqual(['stopped: the recordings disk does not answer', 'writing, lost 0']);
  });

  it('has flush resolve at once when nothing is pending, and close idempotent', async () => {
    const path = join(dir, 'idle');
    const w = writer(path);
    await w.flush();
    w.write(Buffer.from('x\n'));
    const closing = w.close();
    expect(w.close()).toBe(closing);
    await closing;
    w.write(Buffer.from('after close\n'));
    await w.flush();
    expect(await readFile(path, 'utf8')).toBe('head\nx\n');
  });
});
