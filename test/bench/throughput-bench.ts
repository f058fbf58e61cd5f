import { randomBytes } from 'node:crypto';
import type { FarEnd } from './far-ends.js';
import { ready } from './latency-bench.js';
import { nowMs } from './marker-clock.js';
import type { PersonClient } from './person-clients.js';

/**
 * What the device sends and the person types: `random` bytes (all 256 values: binary, the worst
 * case for the recording, whose text becomes U+FFFD and escapes), or `text`, lines of printable
 * ASCII as a console prints them (`show running-config`, a log dump).
 */
export type Payload = 'random' | 'text';
export const PAYLOADS: readonly Payload[] = ['random', 'text'];

export interface ThroughputRow {
  path: string;
  client: string;
  payload: Payload;
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
  runs: {
    deviceToPersonMBps: number[];
    personToDeviceMBps: number[];
    deviceToPersonCpuMsPerMB: number[];
    personToDeviceCpuMsPerMB: number[];
  };
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
  payload: Payload = 'random',
): Promise<ThroughputRow> {
  const runs: ThroughputRow['runs'] = {
    deviceToPersonMBps: [],
    personToDeviceMBps: [],
    deviceToPersonCpuMsPerMB: [],
    personToDeviceCpuMsPerMB: [],
  };
  const errors: string[] = [];
  const directions = [
    ['device to person', deviceToPerson, runs.deviceToPersonMBps, runs.deviceToPersonCpuMsPerMB],
    ['person to device', personToDevice, runs.personToDeviceMBps, runs.personToDeviceCpuMsPerMB],
  ] as const;
  for (let i = 0; i < repeat && errors.length === 0; i++) {
    for (const [name, run, into, cpuInto] of directions) {
      try {
        const speed = await run(device, open, makePayload(payload, bytes), middle);
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
    payload,
    bytes,
    deviceToPersonMBps: median(runs.deviceToPersonMBps),
    personToDeviceMBps: median(runs.personToDeviceMBps),
    ...(middle
      ? {
          middleCpuMsPerMB: {
            deviceToPerson: median(runs.deviceToPersonCpuMsPerMB),
            personToDevice: median(runs.personToDeviceCpuMsPerMB),
          },
        }
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

/** `bytes` of the payload: random bytes, or CRLF-ended lines of 20 to 99 printable ASCII characters. */
function makePayload(kind: Payload, bytes: number): Buffer {
  const data = randomBytes(bytes);
  if (kind === 'random') return data;
  let lineEnd = 20 + (data[0]! % 80);
  for (let i = 0; i < bytes; i++) {
    if (i === lineEnd) {
      data[i] = 0x0d;
      if (i + 1 < bytes) data[++i] = 0x0a;
      lineEnd = i + 21 + (data[i]! % 80);
    } else data[i] = 0x20 + (data[i]! % 95);
  }
  return data;
}

async function deviceToPerson(device: FarEnd, open: OpenPerson, payload: Buffer, middle?: CpuSeconds): Promise<Speed> {
  const bytes = payload.length;
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

async function personToDevice(device: FarEnd, open: OpenPerson, payload: Buffer, middle?: CpuSeconds): Promise<Speed> {
  const bytes = payload.length;
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
