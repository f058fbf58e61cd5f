import { waitFor } from '../support/wait.js';
import type { BenchSite } from './bench-site.js';
import type { FarEnd } from './far-ends.js';
import { MarkerClock, marker, nowMs, percentiles, type Percentiles } from './marker-clock.js';
import { ssh2Person, type PersonClient } from './person-clients.js';

export interface LatencyOptions {
  /** Markers the device prints per measurement. */
  markers: number;
  /** Pause between markers, so each one travels alone, as console output does. */
  gapMs: number;
}

export interface ViewerLatencyRow {
  viewers: number;
  markers: number;
  /** When a viewer's client saw a marker, minus when the writer's did (what the issue bounds at 50 ms). */
  viewerMinusWriterMs: Percentiles;
  deviceToWriterMs: Percentiles;
  deviceToViewerMs: Percentiles;
}

export interface PersonLatencyRow {
  path: string;
  client: string;
  markers: number;
  gapMs: number;
  deviceToPersonMs: Percentiles;
}

let nextMarker = 0;

/** The device prints `count` fresh markers, `gapMs` apart; resolves with their indices and send times once every clock saw them all. */
async function sendMarkers(
  device: FarEnd,
  clocks: MarkerClock[],
  options: LatencyOptions,
): Promise<Array<{ name: string; sentAt: number }>> {
  const sent: Array<{ name: string; sentAt: number }> = [];
  for (let i = 0; i < options.markers; i++) {
    const name = marker(nextMarker++);
    sent.push({ name, sentAt: nowMs() });
    await device.write(`${name}\r\n`);
    await new Promise((r) => setTimeout(r, options.gapMs));
  }
  const missing = () => clocks.filter((c) => sent.some((s) => c.at(s.name) === undefined)).length;
  await waitFor(
    () => `every marker at every client (${missing()} of ${clocks.length} clients miss some)`,
    () => missing() === 0,
    30_000,
  );
  return sent;
}

/**
 * One writer (`alice`) and a growing crowd of read-only viewers (`viewer`), all ssh2 clients in
 * this process; for each count in `viewerCounts` (ascending), the device prints markers and each
 * client's arrival time is taken. Leaves everyone attached until the end, then logs them out.
 */
export async function viewerLatency(
  site: BenchSite,
  device: FarEnd,
  viewerCounts: number[],
  options: LatencyOptions,
  progress: (line: string) => void,
): Promise<ViewerLatencyRow[]> {
  const privateKey = site.personKey.privateKey;
  const before = site.sessionStarts().length;
  const writerClock = new MarkerClock();
  const people: PersonClient[] = [await ssh2Person({ port: site.port, user: 'alice', privateKey, onData: (d) => writerClock.feed(d) })];
  await site.attached(before + 1);
  const viewerClocks: MarkerClock[] = [];
  const rows: ViewerLatencyRow[] = [];
  try {
    for (const count of viewerCounts) {
      progress(`viewer latency: ${count} viewer(s)`);
      const joining = Array.from({ length: count - viewerClocks.length }, () => new MarkerClock());
      // A few logins at a time: a crowd arriving at once is a login benchmark, not this one.
      for (let i = 0; i < joining.length; i += 10) {
        const batch = joining.slice(i, i + 10);
        people.push(
          ...(await Promise.all(
            batch.map((clock) => ssh2Person({ port: site.port, user: 'viewer', privateKey, onData: (d) => clock.feed(d) })),
          )),
        );
      }
      viewerClocks.push(...joining);
      await site.attached(before + 1 + viewerClocks.length);
      const sent = await sendMarkers(device, [writerClock, ...viewerClocks], options);
      const lag: number[] = [];
      const toViewer: number[] = [];
      const toWriter: number[] = [];
      for (const { name, sentAt } of sent) {
        const atWriter = writerClock.at(name)!;
        toWriter.push(atWriter - sentAt);
        for (const clock of viewerClocks) {
          lag.push(clock.at(name)! - atWriter);
          toViewer.push(clock.at(name)! - sentAt);
        }
      }
      rows.push({
        viewers: count,
        markers: sent.length,
        viewerMinusWriterMs: percentiles(lag),
        deviceToWriterMs: percentiles(toWriter),
        deviceToViewerMs: percentiles(toViewer),
      });
    }
  } finally {
    await Promise.all(people.map((p) => p.close()));
  }
  return rows;
}

/** One person alone (any path, any client): the device prints markers, their arrival is timed. */
export async function personLatency(
  label: { path: string; client: string },
  device: FarEnd,
  open: (onData: (chunk: Buffer) => void) => Promise<PersonClient>,
  options: LatencyOptions,
): Promise<PersonLatencyRow> {
  const clock = new MarkerClock();
  const person = await open((d) => clock.feed(d));
  try {
    await ready(person, device);
    const sent = await sendMarkers(device, [clock], options);
    return {
      ...label,
      markers: sent.length,
      gapMs: options.gapMs,
      deviceToPersonMs: percentiles(sent.map(({ name, sentAt }) => clock.at(name)! - sentAt)),
    };
  } finally {
    await person.close();
  }
}

/** A byte typed by the person reaches the device: the whole path is up (and the person holds read-write). */
export async function ready(person: PersonClient, device: FarEnd): Promise<void> {
  await person.write(Buffer.from('\r'));
  await device.readExactly(1, 15_000).catch((err: Error) => {
    throw new Error(`${err.message} (${person.status()})`);
  });
}
