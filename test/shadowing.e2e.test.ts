import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialFarEnd, startSocatPtyPair, type SocatPtyPair } from '@lifeline/edge-agent/testing';
import { readAsciicast } from '../packages/relay/src/recording/asciicast.js';
import { MarkerClock, marker, nowMs, percentiles } from './bench/marker-clock.js';
import { memoryOf, mib, resetPeakMemory } from './bench/process-memory.js';
import { LifelineSite, users } from './support/lifeline-site.js';
import type { LogLine } from './support/lifeline-process.js';
import { openConsoleChannel, type ConsoleChannel } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

const VIEWERS = 20;
const MARKERS = 50;
const MARKER_GAP_MS = 20;
/** The requirement: a viewer sees live output within 50 ms of the writer. */
const MAX_VIEWER_DELAY_MS = 50;

const VIEWER_BUFFER_BYTES = 65_536;
/**
 * A stalled ssh2 client takes in up to 4 MiB (2 MiB unread plus its window), the relay's channel
 * holds 2 MiB more, then the viewer's bound: it is cut off after 5 to 6 MiB. 24 MiB leaves room
 * for that, and a second half over which the relay's memory must stay flat.
 */
const FLOOD_BYTES = 24 * 1024 * 1024;
/**
 * Paced: 180 times a 115200-baud console, yet slow enough for this process's ssh2 clients.
 * Unpaced (Infinity: pty speed, 15 MB/s and more), the relay also cuts off viewers that do read;
 * see "Findings" in docs/benchmarks.md.
 */
const FLOOD_BYTES_PER_S = 2 * 1024 * 1024;

/** Printable lines, so the asciicast recording (text) can be compared byte for byte. */
function consoleFlood(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `${String(i).padStart(8, '0')} the quick brown fox jumps over the lazy dog 0123456789\r\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''), 'latin1');
}

/** Writes `data` to the device in 64 KiB slices at no more than `bytesPerSecond`. */
async function writePaced(device: SerialFarEnd, data: Buffer, bytesPerSecond: number): Promise<void> {
  const start = nowMs();
  for (let offset = 0; offset < data.length; offset += 65_536) {
    await device.write(data.subarray(offset, offset + 65_536));
    const due = start + ((offset + 65_536) / bytesPerSecond) * 1000;
    if (due > nowMs()) await new Promise((r) => setTimeout(r, due - nowMs()));
  }
}

describe('shadowing a serial console: one writer, read-only viewers, relay and agent as processes', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let pty: SocatPtyPair | undefined;
  let device: SerialFarEnd | undefined;
  let site: LifelineSite | undefined;
  let open: ConsoleChannel[] = [];

  beforeEach(async () => {
    dir = await makeTempDir('e2e-shadowing');
  });
  afterEach(async () => {
    for (const c of open) c.channel.destroy();
    await site?.stop();
    await device?.close();
    await pty?.stop();
    await dir.remove();
    site = device = pty = undefined;
    open = [];
  });

  async function start(relayExtra?: string): Promise<{ device: SerialFarEnd; site: LifelineSite }> {
    pty = await startSocatPtyPair(dir.path, { names: ['ttyUSB0', 'device'] });
    device = await SerialFarEnd.open(pty.b);
    site = await LifelineSite.start(dir.path, { console: '{ type: serial, path: ttyUSB0, baudRate: 115200 }', relayExtra });
    return { device, site };
  }

  /** A pty-less session: stdout carries console bytes only, lifeline's lines go to stderr. */
  async function login(user: 'alice' | 'dave' | 'sue', onData?: (chunk: Buffer) => void): Promise<ConsoleChannel> {
    const c = await openConsoleChannel({ port: site!.port, user, password: users[user].password, pty: false, onData });
    open.push(c);
    return c;
  }

  const sessionStarts = (): LogLine[] => site!.relay.logs.filter((l) => l.event === 'session.start');

  it('shows live output to each of 20 viewers within 50 ms of the writer', async () => {
    const { device, site } = await start();
    const writerClock = new MarkerClock();
    const writer = await login('alice', (d) => writerClock.feed(d));
    await site.relay.waitForLog('alice holding read-write', (l) => l.event === 'session.writer' && l.to === 'alice');
    const viewerClocks = Array.from({ length: VIEWERS }, () => new MarkerClock());
    const viewers = await Promise.all(viewerClocks.map((clock, i) => login(i % 2 ? 'sue' : 'dave', (d) => clock.feed(d))));
    await waitFor(
      () => `${1 + VIEWERS} sessions attached (${sessionStarts().length})`,
      () => sessionStarts().length === 1 + VIEWERS,
    );
    await waitFor('every viewer told it is read-only', () =>
      viewers.every((v) => /alice has read-write; you are read-only/.test(v.stderr())),
    );

    const sentAt: number[] = [];
    for (let i = 0; i < MARKERS; i++) {
      sentAt.push(nowMs());
      await device.write(`${marker(i)}\r\n`);
      await new Promise((r) => setTimeout(r, MARKER_GAP_MS));
    }
    const everyone = [writerClock, ...viewerClocks];
    await waitFor(
      () => `every marker at every client (seen: ${everyone.map((c) => c.count).join(',')})`,
      () => everyone.every((c) => c.count === MARKERS),
    );

    // Nothing but the console's bytes, in order, for the writer and for each viewer.
    const expected = Array.from({ length: MARKERS }, (_, i) => `${marker(i)}\r\n`).join('');
    for (const c of [writer, ...viewers]) expect(c.output()).toBe(expected);

    const delays: number[] = [];
    const deviceToWriter: number[] = [];
    for (let i = 0; i < MARKERS; i++) {
      const atWriter = writerClock.at(marker(i))!;
      deviceToWriter.push(atWriter - sentAt[i]!);
      for (const clock of viewerClocks) delays.push(clock.at(marker(i))! - atWriter);
    }
    const lag = percentiles(delays);
    const path = percentiles(deviceToWriter);
    const f = (n: number) => n.toFixed(2);
    console.log(
      `viewer minus writer over ${VIEWERS} viewers x ${MARKERS} markers: p50 ${f(lag.p50)} ms, p95 ${f(lag.p95)} ms, max ${f(lag.max)} ms; ` +
        `device to writer: p50 ${f(path.p50)} ms, p95 ${f(path.p95)} ms, max ${f(path.max)} ms`,
    );
    expect(lag.n).toBe(VIEWERS * MARKERS);
    expect(lag.max).toBeLessThan(MAX_VIEWER_DELAY_MS);
  }, 60_000);

  it('cuts off a viewer that stops reading, while the writer, another viewer and the recording get every byte', async () => {
    const { device, site } = await start(`viewerBufferBytes: ${VIEWER_BUFFER_BYTES}`);
    const received = { alice: 0, sue: 0 };
    const writer = await login('alice', (d) => (received.alice += d.length));
    await site.relay.waitForLog('alice holding read-write', (l) => l.event === 'session.writer' && l.to === 'alice');
    const healthy = await login('sue', (d) => (received.sue += d.length));
    const stalled = await login('dave');
    // Its terminal stops reading: ssh2 stops widening the channel's window once 2 MiB wait unread.
    stalled.channel.pause();
    await waitFor('3 sessions attached', () => sessionStarts().length === 3);
    const byUser = (user: string) => sessionStarts().find((l) => l.user === user)!;
    const relayPid = site.relay.child.pid!;
    const before = await memoryOf(relayPid);

    const flood = consoleFlood(FLOOD_BYTES);
    const writing = writePaced(device, flood, FLOOD_BYTES_PER_S);
    const progress = () => `writer ${mib(received.alice)}, viewer ${mib(received.sue)} of ${mib(flood.length)}`;

    // Cut off while still stalled, and while the output goes on: its exit status gets through although it reads nothing.
    const cut = await site.relay.waitForLog(
      'stalled viewer session end',
      (l) => l.event === 'session.end' && l.sessionId === byUser('dave').sessionId && 'bytesOut' in l,
      30_000,
    );
    expect(cut).toMatchObject({ user: 'dave', reason: 'aborted' });
    expect(await stalled.exited).toBe(1);
    expect(received.alice, progress()).toBeLessThan(flood.length / 2);
    await waitFor(progress, () => received.alice >= flood.length / 2, 30_000, 50);
    // The peak so far includes what the stalled viewer held before it was cut off: start a new one.
    const midway = await memoryOf(relayPid);
    await resetPeakMemory(relayPid);

    await waitFor(progress, () => received.alice >= flood.length && received.sue >= flood.length, 30_000, 50);
    await writing;
    const after = await memoryOf(relayPid);
    expect(writer.bytes().equals(flood)).toBe(true);
    expect(healthy.bytes().equals(flood)).toBe(true);
    expect(site.relay.logs.filter((l) => l.event === 'session.end' && l.user !== 'dave')).toEqual([]);

    console.log(
      `relay memory: RSS ${mib(before.rss)} before the flood, ${mib(midway.rss)} halfway (peak ${mib(midway.hwm)} so far), ` +
        `${mib(after.rss)} after; peak over the second half ${mib(after.hwm)}`,
    );
    // Flat over the second half (holding it for the stalled viewer would take 12 MiB), and a generous overall bound.
    expect(after.hwm - midway.rss).toBeLessThan(6 * 1024 * 1024);
    expect(Math.max(midway.hwm, after.hwm) - before.rss).toBeLessThan(64 * 1024 * 1024);

    // The writer's recording holds everything the console printed, in order, with no gap.
    writer.end();
    await writer.closed;
    await site.relay.waitForLog(
      'writer session end',
      (l) => l.event === 'session.end' && l.sessionId === byUser('alice').sessionId && 'bytesOut' in l,
    );
    // Complete once the marker written as the session ended is in the file.
    const recording = await waitFor('the writer recording, to its end', async () => {
      const cast = await readAsciicast(byUser('alice').recording as string);
      return cast.events.some(([, code, data]) => code === 'm' && data.startsWith('disconnect')) ? cast : undefined;
    });
    const output = recording.events
      .filter(([, code]) => code === 'o')
      .map(([, , data]) => data)
      .join('');
    expect(output.length).toBe(flood.length);
    expect(output === flood.toString('latin1')).toBe(true);
    expect(recording.events.filter(([, code, data]) => code === 'm' && /gap/.test(data))).toEqual([]);

    // Reading again, the stalled viewer finds its session over, short of the flood.
    stalled.channel.resume();
    await stalled.closed;
    expect(stalled.bytes().length).toBeLessThan(flood.length / 2);
    expect(flood.subarray(0, stalled.bytes().length).equals(stalled.bytes())).toBe(true);
  }, 90_000);
});
