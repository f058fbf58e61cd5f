import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineFileWriter, type LineFileWriterOptions } from './line-file-writer.js';

describe('LineFileWriter', () => {
  let dir: string;
  let reports: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-lines-'));
    reports = [];
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function options(maxQueuedBytes = 1024): LineFileWriterOptions {
    return {
      maxQueuedBytes,
      gapLine: (lost) => `gap ${lost}\n`,
      onLoss: (err) => reports.push(`loss: ${err.message}`),
      onRecovered: (lost) => reports.push(`recovered ${lost}`),
    };
  }

  it('writes lines in the order given', async () => {
    const path = join(dir, 'a');
    const writer = await LineFileWriter.create(path, 0o600, options(64 * 1024));
    for (let i = 0; i < 200; i++) writer.write(`line ${i}\n`);
    await writer.close();
    const expected = Array.from({ length: 200 }, (_, i) => `line ${i}\n`).join('');
    expect(await readFile(path, 'utf8')).toBe(expected);
    expect(reports).toEqual([]);
  });

  it('refuses to overwrite an existing file', async () => {
    const path = join(dir, 'taken');
    await writeFile(path, 'keep me');
    await expect(LineFileWriter.create(path, 0o600, options())).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('keep me');
  });

  it('drops lines past the queue bound while a write is in flight, reports once, and marks the gap where it was', async () => {
    const path = join(dir, 'slow');
    const writer = await LineFileWriter.create(path, 0o600, options(12));
    writer.write('first\n'); // in flight until a later tick
    writer.write('second\n'); // 7 bytes queued
    writer.write('third\n'); // 13 > 12: dropped
    writer.write('fourth\n'); // dropped
    await writer.flush();
    writer.write('fifth\n');
    await writer.close();
    expect(await readFile(path, 'utf8')).toBe('first\nsecond\ngap 2\nfifth\n');
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatch(/^loss: recording is 7 bytes behind the disk/);
    expect(reports[1]).toBe('recovered 2');
  });

  it('marks lines lost at the very end with a last gap line on close', async () => {
    const path = join(dir, 'end');
    const writer = await LineFileWriter.create(path, 0o600, options(1));
    writer.write('first\n');
    writer.write('dropped\n');
    await writer.close();
    expect(await readFile(path, 'utf8')).toBe('first\ngap 1\n');
  });

  it('has flush resolve at once when nothing is pending, and close idempotent', async () => {
    const path = join(dir, 'idle');
    const writer = await LineFileWriter.create(path, 0o600, options());
    await writer.flush();
    writer.write('x\n');
    const closing = writer.close();
    expect(writer.close()).toBe(closing);
    await closing;
    writer.write('after close\n');
    await writer.flush();
    expect(await readFile(path, 'utf8')).toBe('x\n');
  });
});
