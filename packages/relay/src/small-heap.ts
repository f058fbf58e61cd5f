import { setFlagsFromString } from 'node:v8';

/**
 * Tells V8 to keep its heaps small from now on (`--optimize-for-size`: a smaller heap-growing
 * factor, and its memory reducer hands free pages back). Called by the daemon once the relay
 * listens, not on the command line: with the flag from the start, a relay with 10,000 devices
 * and users took 6.8-7.0 s to listen instead of 4.4-5.3 s (its start-up garbage collections
 * ran more often); set afterwards, the start stays as fast and the idle relay settles at about
 * 160 MiB instead of 222-229 MiB, with device-output throughput unchanged within the bench's
 * noise (docs/benchmarks.md, "Settled RSS"). V8 reads this flag at each collection, so setting it
 * on a running isolate is what takes effect; not called in tests, which run relays in-process.
 */
export function keepHeapSmall(): void {
  setFlagsFromString('--optimize-for-size');
}
