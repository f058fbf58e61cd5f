import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';

/** Event-loop utilization (0..1) at or above which a one-second sample counts as busy. */
const BUSY = 0.5;
/** Quiet seconds in a row before the heap is kept small again. */
const QUIET_SAMPLES = 5;
const SAMPLE_MS = 1000;

export interface SmallHeapOptions {
  /** Sets a V8 flag (v8.setFlagsFromString unless a test records them). */
  setFlag?: (flag: string) => void;
  /** Event-loop utilization since the previous call, 0..1. */
  utilization?: () => number;
  /** Calls `sample` every second until the returned stop; setInterval (unref'd) unless a test drives it. */
  every?: (sample: () => void, ms: number) => () => void;
}

/**
 * Keeps V8's heaps small while the relay is quiet, and not while it carries traffic. Called by the
 * daemon once the relay listens, not on the command line: with the flag from the start, a relay
 * with 10,000 devices and users took 6.8-7.0 s to listen instead of 4.4-5.3 s. Idle, the flag
 * (`--optimize-for-size`: a smaller heap-growing factor, and the memory reducer hands pages back)
 * settles that relay at about 157 MiB instead of 222-229 MiB. Under load it turns every
 * collection into a memory-reducing one (a mark-compact of the whole heap every 70-100 ms with a
 * fleet's heap), which cost the relay 14 % more CPU per MB of device output and 27 % more per MB
 * of input (docs/benchmarks.md, "Device output throughput"). So the flag is lifted after one busy
 * second (event-loop utilization at least 0.5) and set again after 5 quiet ones (with 30, a relay
whose fleet's console logs kept it busy for its first seconds was still on the large heap when
it settled: 227 MiB against 141 MiB at 10,000 devices). V8 reads it at
 * each collection, so setting it on a running isolate takes effect; not used by tests that run
 * relays in-process. Returns a stop function.
 */
export function keepHeapSmallWhenQuiet(options: SmallHeapOptions = {}): () => void {
  const setFlag = options.setFlag ?? setFlagsFromString;
  const utilization = options.utilization ?? loopUtilization();
  const every = options.every ?? unrefInterval;
  let small = true;
  let quiet = 0;
  setFlag('--optimize-for-size');
  return every(() => {
    const busy = utilization() >= BUSY;
    quiet = busy ? 0 : quiet + 1;
    if (small && busy) {
      small = false;
      setFlag('--no-optimize-for-size');
    } else if (!small && quiet >= QUIET_SAMPLES) {
      small = true;
      setFlag('--optimize-for-size');
    }
  }, SAMPLE_MS);
}

function loopUtilization(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return utilization;
  };
}

function unrefInterval(sample: () => void, ms: number): () => void {
  const timer = setInterval(sample, ms);
  timer.unref();
  return () => clearInterval(timer);
}
