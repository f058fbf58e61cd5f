import { describe, expect, it } from 'vitest';
import { HashGate } from './hash-gate.js';

/** Work that finishes when the test says so, recording that it started. */
function controllable(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { work: () => (log.push(name), done.then(() => name)), finish };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('HashGate', () => {
  it('runs at most perAddress hashes at once for one address', async () => {
    const gate = new HashGate({ perAddress: 1, total: 4 });
    const started: string[] = [];
    const a = controllable(started, 'a1');
    const b = controllable(started, 'a2');
    const first = gate.run('10.0.0.1', a.work);
    const second = gate.run('10.0.0.1', b.work);
    await tick();
    expect(started).toEqual(['a1']);
    expect(gate.queued).toBe(1);
    a.finish();
    await expect(first).resolves.toBe('a1');
    await tick();
    expect(started).toEqual(['a1', 'a2']);
    b.finish();
    await expect(second).resolves.toBe('a2');
    expect(gate.started).toBe(2);
    expect(gate.peak).toBe(1);
  });

  it('lets a hash from another address pass one waiting for its own address', async () => {
    const gate = new HashGate({ perAddress: 1, total: 2 });
    const started: string[] = [];
    const flood = Array.from({ length: 5 }, (_, i) => controllable(started, `flood${i}`));
    for (const f of flood) void gate.run('10.0.0.1', f.work);
    const legit = controllable(started, 'legit');
    void gate.run('10.0.0.2', legit.work);
    await tick();
    expect(started).toEqual(['flood0', 'legit']);
    for (const f of flood) f.finish();
    legit.finish();
  });

  it('holds everyone at the total cap and starts waiters in arrival order as slots free', async () => {
    const gate = new HashGate({ perAddress: 2, total: 2 });
    const started: string[] = [];
    const jobs = ['a', 'b', 'c', 'd'].map((n) => controllable(started, n));
    const runs = jobs.map((j, i) => gate.run(`10.0.0.${i}`, j.work));
    await tick();
    expect(started).toEqual(['a', 'b']);
    jobs[1]!.finish();
    await runs[1];
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    for (const j of jobs) j.finish();
    await Promise.all(runs);
    expect(gate.peak).toBe(2);
  });

  it('drops a waiter whose connection closed, without running its hash', async () => {
    const gate = new HashGate({ perAddress: 1, total: 1 });
    const started: string[] = [];
    const a = controllable(started, 'a');
    const b = controllable(started, 'b');
    void gate.run('10.0.0.1', a.work);
    const closed = new AbortController();
    const waiting = gate.run('10.0.0.2', b.work, closed.signal);
    closed.abort(new Error('connection closed'));
    await expect(waiting).rejects.toThrow('connection closed');
    a.finish();
    await tick();
    expect(started).toEqual(['a']);
    expect(gate.queued).toBe(0);
  });

  it('frees the slot when the hash fails', async () => {
    const gate = new HashGate({ perAddress: 1, total: 1 });
    await expect(gate.run('10.0.0.1', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run('10.0.0.1', () => Promise.resolve(7))).resolves.toBe(7);
  });
});
