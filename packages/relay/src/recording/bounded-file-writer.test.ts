import { FakeClock } from '@lifeline/shared/testing';
import { describe, expect, it } from 'vitest';
import { BoundedFileWriter, type FileSink, type Gap, type WriterStatus } from './bounded-file-writer.js';
import { DiskGate } from './disk-gate.js';

/** A file in memory whose next operations can be made to fail or to hang (a unit-test double of the sinks). */
class MemorySink implements FileSink {
  isOpen = false;
  text = '';
  writes: string[] = [];
  calls: string[] = [];
  failNext: string[] = [];
  hold: Promise<void> | undefined;

  async open(): Promise<void> {
    await this.step('open');
    this.isOpen = true;
  }

  async write(data: Buffer): Promise<void> {
    await this.step('write');
    this.writes.push(data.toString());
    this.text += data.toString();
  }

  async close(): Promise<void> {
    this.isOpen = false;
    await this.step('close');
  }

  gapLine(gap: Gap): Buffer {
    return Buffer.from(`[gap dropped=${gap.dropped} failed=${gap.failed}]`);
  }

  private async step(name: string): Promise<void> {
    this.calls.push(name);
    await this.hold;
    const err = this.failNext.shift();
    if (err) throw Object.assign(new Error(err), { code: err });
  }
}

function statusText(s: WriterStatus): string {
  return s.writing ? `writing, lost ${s.lost}` : `stopped: ${s.error ? (s.error as NodeJS.ErrnoException).code : 'no answer'}`;
}

function setup(overrides: { openAtStart?: boolean; maxQueuedBytes?: number; gate?: DiskGate } = {}) {
  const sink = new MemorySink();
  const clock = new FakeClock(1_000);
  const statuses: string[] = [];
  const writer = new BoundedFileWriter({
    sink,
    maxQueuedBytes: overrides.maxQueuedBytes ?? 1_000_000,
    retryMs: 5_000,
    openAtStart: overrides.openAtStart ?? false,
    stallMs: 5_000,
    clock,
    gate: overrides.gate,
    onStatus: (s) => statuses.push(statusText(s)),
  });
  const put = (text: string) => writer.write(Buffer.from(text), text.length);
  return { sink, clock, statuses, writer, put };
}

describe('BoundedFileWriter', () => {
  it('tries a failed write again after retryMs by itself, with the gap before what waited', async () => {
    const { sink, clock, statuses, writer, put } = setup();
    sink.failNext.push('', 'ENOSPC'); // the open works, the first write does not
    put('lost');
    await writer.flush();
    put('waits');
    await writer.flush();
    expect(sink.text).toBe('');
    await clock.advance(4_999);
    expect(sink.text).toBe('');
    // No new output: the timer alone brings the waiting output to the file.
    await clock.advance(1);
    await writer.flush();
    expect(sink.text).toBe('[gap dropped=0 failed=4]waits');
    expect(statuses).toEqual(['stopped: ENOSPC', 'writing, lost 4']);
    await writer.close();
  });

  it('counts the write in flight against the bound, and lets anything through when nothing waits', async () => {
    const { sink, writer, put } = setup({ maxQueuedBytes: 10 });
    put('a'.repeat(30)); // larger than the bound, but the disk is free: taken
    put('bbbbbb'); // 30 in flight + 6 > 10: dropped
    await writer.flush();
    put('cccccccc');
    expect(writer.hasRoomFor(3)).toBe(false); // 8 in flight + 3 > 10
    await writer.close();
    expect(sink.text).toBe(`${'a'.repeat(30)}[gap dropped=6 failed=0]cccccccc`);
  });

  it('writes what queued during a write in one write of whole items, up to 1 MiB', async () => {
    const { sink, writer, put } = setup({ maxQueuedBytes: 4 * 1024 * 1024 });
    let release!: () => void;
    sink.hold = new Promise((r) => (release = r));
    put('first');
    for (let i = 0; i < 5; i++) put(String(i).repeat(300_000));
    release();
    await writer.close();
    // The open, then everything queued behind it: three whole items fit in 1 MiB, then two.
    expect(sink.writes.map((w) => w.length)).toEqual([900_005, 600_000]);
    expect(sink.text).toBe('first' + [0, 1, 2, 3, 4].map((i) => String(i).repeat(300_000)).join(''));
  });

  it('runs an operation before the output queued behind it, and a failing one loses nothing', async () => {
    const { sink, statuses, writer, put } = setup();
    writer.run(async () => {
      sink.calls.push('prepare');
      throw Object.assign(new Error('EROFS'), { code: 'EROFS' });
    });
    put('kept');
    await writer.close();
    expect(sink.calls).toEqual(['prepare', 'open', 'write', 'close']);
    expect(sink.text).toBe('kept');
    expect(statuses).toEqual(['stopped: EROFS', 'writing, lost 0']);
  });

  it('with openAtStart, opens at once and reports writing, or reports an open that does not answer within stallMs', async () => {
    const answered = setup({ openAtStart: true });
    await answered.writer.flush();
    expect(answered.statuses).toEqual(['writing, lost 0']);
    await answered.writer.close();

    const frozen = new MemorySink();
    let thaw!: () => void;
    frozen.hold = new Promise((r) => (thaw = r));
    const clock = new FakeClock(0);
    const statuses: string[] = [];
    const writer = new BoundedFileWriter({
      sink: frozen,
      maxQueuedBytes: 100,
      retryMs: 5_000,
      openAtStart: true,
      stallMs: 5_000,
      clock,
      onStatus: (s) => statuses.push(statusText(s)),
    });
    await clock.advance(5_000);
    expect(statuses).toEqual(['stopped: no answer']);
    thaw();
    await writer.close();
    expect(statuses).toEqual(['stopped: no answer', 'writing, lost 0']);
  });

  it('goes through the gate for every file operation', async () => {
    const gate = new DiskGate(1);
    let release!: () => void;
    const blocker = gate.run(() => new Promise<void>((r) => (release = r)));
    const { sink, writer, put } = setup({ gate });
    put('x');
    await new Promise((r) => setImmediate(r));
    expect(sink.calls).toEqual([]);
    expect(gate.queued).toBe(1);
    release();
    await blocker;
    await writer.close();
    expect(sink.calls).toEqual(['open', 'write', 'close']);
  });

  it('says at close what it could not write', async () => {
    const { sink, writer, put } = setup();
    sink.failNext.push('EIO', 'EIO');
    put('abc'); // lost with the open
    await writer.flush();
    put('de'); // waits for the retry, then fails with the open at the last try
    expect(await writer.close()).toBe(5);
  });
});
