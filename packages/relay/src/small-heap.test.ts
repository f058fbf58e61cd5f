import { describe, expect, it } from 'vitest';
import { keepHeapSmallWhenQuiet } from './small-heap.js';

function drive(samples: number[]) {
  const flags: string[] = [];
  let sample: () => void = () => undefined;
  let stopped = false;
  const stop = keepHeapSmallWhenQuiet({
    setFlag: (flag) => flags.push(flag),
    utilization: () => samples.shift() ?? 0,
    every: (fn) => ((sample = fn), () => void (stopped = true)),
  });
  return { flags, run: (n: number) => Array.from({ length: n }, () => sample()), stop, stopped: () => stopped };
}

describe('keepHeapSmallWhenQuiet', () => {
  it('keeps the heap small from the start while the loop stays quiet', () => {
    const d = drive(Array(60).fill(0.1));
    d.run(60);
    expect(d.flags).toEqual(['--optimize-for-size']);
  });

  it('lifts the flag after one busy second and sets it again after 5 quiet ones', () => {
    const d = drive([0.2, 0.9, 0.8, ...Array(4).fill(0.1), 0.1]);
    d.run(3);
    expect(d.flags).toEqual(['--optimize-for-size', '--no-optimize-for-size']);
    d.run(4);
    expect(d.flags).toHaveLength(2);
    d.run(1);
    expect(d.flags).toEqual(['--optimize-for-size', '--no-optimize-for-size', '--optimize-for-size']);
  });

  it('counts the quiet spell again from zero after a busy second inside it', () => {
    const d = drive([0.9, ...Array(3).fill(0), 0.7, ...Array(4).fill(0), 0]);
    d.run(1 + 3 + 1 + 4);
    expect(d.flags).toEqual(['--optimize-for-size', '--no-optimize-for-size']);
    d.run(1);
    expect(d.flags.at(-1)).toBe('--optimize-for-size');
  });

  it('stops sampling when stopped', () => {
    const d = drive([]);
    d.stop();
    expect(d.stopped()).toBe(true);
  });
});
