import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ServerChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { COALESCE_BYTES, PersonTerminal } from './person-terminal.js';

/** A channel that records each write it gets (one write = one SSH packet or more, never fewer). */
function channel(highWaterMark = 1024 * 1024) {
  const writes: Buffer[] = [];
  const stderr: string[] = [];
  const calls: string[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const ch = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      writes.push(Buffer.from(chunk));
      if (hold) release = cb;
      else cb();
    },
  }) as Writable & { stderr: Writable; exit: (code: number) => void; close: () => void };
  ch.stderr = new Writable({ write: (c: Buffer, _e, cb) => (stderr.push(c.toString()), cb()) });
  ch.exit = (code) => calls.push(`exit ${code}`);
  ch.close = () => calls.push('close');
  return {
    ch: ch as unknown as ServerChannel,
    writes,
    stderr,
    calls,
    hold: () => (hold = true),
    release: () => ((hold = false), release?.()),
  };
}

describe('PersonTerminal', () => {
  it('sends the small pieces of one event-loop turn as one channel write, bytes in order', async () => {
    const c = channel();
    const t = new PersonTerminal(c.ch, false, () => {});
    const pieces = Array.from({ length: 50 }, (_, i) => Buffer.alloc(100, i));
    for (const p of pieces) expect(t.write(p)).toBe(true);
    expect(c.writes).toHaveLength(0);
    expect(t.queuedBytes()).toBe(5000);
    await nextTurn();
    expect(c.writes).toHaveLength(1);
    expect(c.writes[0]).toEqual(Buffer.concat(pieces));
  });

  it('never holds back more than one packet: a full packet goes out at once', async () => {
    const c = channel();
    const t = new PersonTerminal(c.ch, false, () => {});
    const piece = Buffer.alloc(4096, 7);
    for (let i = 0; i < (2 * COALESCE_BYTES) / 4096 + 1; i++) t.write(piece);
    expect(c.writes.map((w) => w.length)).toEqual([COALESCE_BYTES, COALESCE_BYTES]);
    await nextTurn();
    expect(c.writes.map((w) => w.length)).toEqual([COALESCE_BYTES, COALESCE_BYTES, 4096]);
  });

  it('reports a full channel (false, then drain) so the writer is held back', async () => {
    const c = channel(COALESCE_BYTES);
    c.hold();
    const t = new PersonTerminal(c.ch, false, () => {});
    expect(t.write(Buffer.alloc(COALESCE_BYTES))).toBe(false);
    expect(t.write(Buffer.alloc(10))).toBe(false);
    const drained = new Promise<void>((resolve) => t.onceDrain(resolve));
    c.release();
    await drained;
    expect(t.write(Buffer.alloc(10))).toBe(true);
  });

  it("keeps the device's output ahead of lifeline's lines and of the end", async () => {
    const c = channel();
    const t = new PersonTerminal(c.ch, false, () => {});
    t.write(Buffer.from('login: '));
    t.notice('bye');
    t.end(0);
    await nextTurn();
    expect(Buffer.concat(c.writes).toString()).toBe('login: ');
    expect(c.stderr).toEqual(['[lifeline] bye\n']);
    expect(c.calls).toEqual(['exit 0']);
  });

  it('drops what is held back when a stalled viewer is cut off', async () => {
    const c = channel();
    const t = new PersonTerminal(c.ch, false, () => {});
    t.write(Buffer.from('late'));
    t.abort('too slow');
    await nextTurn();
    expect(c.writes).toHaveLength(0);
    expect(t.queuedBytes()).toBe(0);
    expect(c.calls).toEqual(['exit 1', 'close']);
  });
});
