import { randomBytes } from 'node:crypto';
import type { FarEnd } from './far-ends.js';
import { ready } from './latency-bench.js';
import { nowMs } from './marker-clock.js';
import type { PersonClient } from './person-clients.js';

export interface ThroughputRow {
  path: string;
  client: string;
  bytes: number;
  /** Megabytes (10^6 bytes) per second, the median of the runs; NaN when a run failed. */
  deviceToPersonMBps: number;
  personToDeviceMBps: number;
  /**
   * CPU (user + system) of the path's middle per MB carried, ms, the median of the runs: the
   * relay for lifeline, the jump host's sshd (with its per-session processes) for the chain.
   */
  middleCpuMsPerMB?: { deviceToPerson: number; personToDevice: number };
  /** Every run, in order. */
  runs: { deviceToPersonMBps: number[]; personToDeviceMBps: number[]; deviceToPersonCpuMsPerMB: number[]; personToDeviceCpuMsPerMB: number[] };
  /** Why a direction failed, if it did. */
  error?: string;
}

const SLICE = 64 * 1024;

/** Opens a person session whose stdout goes to `onData`. */
export type OpenPerson = (onData: (chunk: Buffer) => void) => Promise<PersonClient>;

/** CPU seconds the path's middle (relay, or the chain's sshd) has used so far. */
export type CpuSeconds = () => Promise<number>;

/**
 * Random bytes (all 256 values: sessions without a pty are binary-transparent) as fast as the
 * path takes them, each way, in a fresh session; checked byte for byte after the clock stopped.
 */
export async function throughput(
  label: { path: string; client: string },
  device: FarEnd,
  open: OpenPerson,
  bytes: number,
  repeat: number,
  middle?: CpuSeconds,
): Promise<ThroughputRow> {
  const runs: ThroughputRow['runs'] = { deviceToPersonMBps: [], personToDeviceMBps: [], deviceToPersonCpuMsPerMB: [], personToDeviceCpuMsPerMB: [] };
  const errors: string[] = [];
  const directions = [
    ['device to person', deviceToPerson, runs.deviceToPersonMBps, runs.deviceToPersonCpuMsPerMB],
    ['person to device', personToDevice, runs.personToDeviceMBps, runs.personToDeviceCpuMsPerMB],
  ] as const;
  for (let i = 0; i < repeat && errors.length === 0; i++) {
    for (const [name, run, into, cpuInto] of directions) {
      try {
        const speed = await run(device, open, bytes, middle);
        into.push(speed.mbps);
        cpuInto.push(speed.cpuMsPerMB);
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
        into.push(Number.NaN);
        cpuInto.push(Number.NaN);
      }
    }
  }
  return {
    ...label,
    bytes,
    deviceToPersonMBps: median(runs.deviceToPersonMBps),
    personToDeviceMBps: median(runs.personToDeviceMBps),
    ...(middle
      ? { middleCpuMsPerMB: { deviceToPerson: median(runs.deviceToPersonCpuMsPerMB), personToDevice: median(runs.personToDeviceCpuMsPerMB) } }
      : {}),
    runs,
    ...(errors.length ? { error: errors.join('; ') } : {}),
  };
}

function median(values: number[]): number {
  if (values.some(Number.isNaN)) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** A run's speed, and the middle's CPU per MB over it (NaN without `middle`). */
interface Speed {
  mbps: number;
  cpuMsPerMB: number;
}

async function cpuMsPerMB(middle: CpuSeconds | undefined, before: number, bytes: number): Promise<number> {
  return middle ? (((await middle()) - before) * 1000) / (bytes / 1e6) : Number.NaN;
}

async function deviceToPerson(device: FarEnd, open: OpenPerson, bytes: number, middle?: CpuSeconds): Promise<Speed> {
  const payload = randomBytes(bytes);
  const chunks: Buffer[] = [];
  let got = 0;
  let done: ((at: number) => void) | undefined;
  const complete = new Promise<number>((resolve) => (done = resolve));
  const person = await open((chunk) => {
    chunks.push(chunk);
    got += chunk.length;
    if (got >= bytes) done?.(nowMs());
  });
  try {
    await ready(person, device);
    const cpuBefore = (await middle?.()) ?? 0;
    const start = nowMs();
    const writing = device.write(payload);
    const end = await withTimeout(complete, 120_000, () => `person got ${got} of ${bytes} bytes`);
    const cpu = await cpuMsPerMB(middle, cpuBefore, bytes);
    await writing;
    if (!Buffer.concat(chunks).equals(payload)) throw new Error('the bytes that arrived differ from what the device sent');
    return { mbps: bytes / 1e6 / ((end - start) / 1000), cpuMsPerMB: cpu };
  } finally {
    await person.close();
  }
}

async function personToDevice(device: FarEnd, open: OpenPerson, bytes: number, middle?: CpuSeconds): Promise<Speed> {
  const payload = randomBytes(bytes);
  const person = await open(() => {});
  try {
    await ready(person, device);
    const cpuBefore = (await middle?.()) ?? 0;
    const start = nowMs();
    const writing = (async () => {
      for (let offset = 0; offset < bytes; offset += SLICE) await person.write(payload.subarray(offset, offset + SLICE));
    })();
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < bytes; offset += SLICE) pieces.push(await device.readExactly(Math.min(SLICE, bytes - offset), 120_000));
    const end = nowMs();
    const cpu = await cpuMsPerMB(middle, cpuBefore, bytes);
    await writing;
    if (!Buffer.concat(pieces).equals(payload)) throw new Error('the bytes that arrived differ from what the person sent');
    return { mbps: bytes / 1e6 / ((end - start) / 1000), cpuMsPerMB: cpu };
  } finally {
    await person.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
