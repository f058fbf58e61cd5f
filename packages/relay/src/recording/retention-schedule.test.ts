import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@lifeline/shared';
import { FakeClock, capturedLogger } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRetention } from './retention-schedule.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-03T12:00:00Z');

/** A recording of `daysAgo` days before NOW, named as the recorder names it. */
async function recording(dir: string, daysAgo: number): Promise<string> {
  const at = new Date(NOW - daysAgo * DAY);
  const day = at.toISOString().slice(0, 10);
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  await mkdir(join(dir, 'rtr-1', day), { recursive: true });
  const name = `${stamp}_alice_0123abcd.cast`;
  await writeFile(join(dir, 'rtr-1', day, name), '{"version":2,"width":80,"height":24}\n');
  return name;
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const day of await readdir(join(dir, 'rtr-1'))) out.push(...(await readdir(join(dir, 'rtr-1', day))));
  return out.sort();
}

async function settle(log: { lines: Array<Record<string, unknown>> }, count: number): Promise<void> {
  for (let i = 0; i < 200 && log.lines.filter((l) => l.event === 'recording.pruned').length < count; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('startRetention', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-retention-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes what is older than retentionDays and logs each file it deletes', async () => {
    const old = await recording(dir, 100);
    const young = await recording(dir, 10);
    const log = capturedLogger();
    const fake = new FakeClock(NOW);
    const timer = startRetention({ dir, retentionDays: 90, logger: log.logger, clock: fake, elapsed: () => fake.now() });
    await settle(log, 1);
    timer.cancel();
    expect(await names(dir)).toEqual([young]);
    expect(log.lines.filter((l) => l.event === 'recording.deleted').map((l) => String(l.path).split('/').at(-1))).toEqual([old]);
  });

  it('deletes nothing more when the wall clock jumps forward past retentionDays while the relay runs, and says so', async () => {
    const kept = [await recording(dir, 30), await recording(dir, 1), await recording(dir, 0)].sort();
    const log = capturedLogger();
    const fake = new FakeClock(NOW);
    let jump = 0;
    // The wall clock is the fake's time plus a step; elapsed time (monotonic) is the fake's alone.
    const wall: Clock = {
      now: () => fake.now() + jump,
      setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
      sleep: (ms, s) => fake.sleep(ms, s),
    };
    const timer = startRetention({ dir, retentionDays: 90, logger: log.logger, clock: wall, elapsed: () => fake.now() });
    await new Promise((r) => setTimeout(r, 50));
    jump = 400 * DAY; // NTP gone wrong: ten years would do the same
    await fake.advance(DAY); // the daily prune
    await new Promise((r) => setTimeout(r, 100));
    timer.cancel();
    expect(await names(dir)).toEqual(kept);
    expect(log.lines.filter((l) => l.event === 'recording.deleted')).toEqual([]);
    expect(log.lines.filter((l) => l.event === 'recording.clock-jump')).toHaveLength(1);
  });

  it('still ages recordings by the time that really passed after a clock jump', async () => {
    await recording(dir, 89);
    const young = await recording(dir, 1);
    const log = capturedLogger();
    const fake = new FakeClock(NOW);
    let jump = 0;
    const wall: Clock = {
      now: () => fake.now() + jump,
      setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
      sleep: (ms, s) => fake.sleep(ms, s),
    };
    const timer = startRetention({ dir, retentionDays: 90, logger: log.logger, clock: wall, elapsed: () => fake.now() });
    jump = 400 * DAY;
    await fake.advance(2 * DAY); // two daily prunes: the 89-day-old recording is now 91 days old
    await settle(log, 1);
    timer.cancel();
    expect(await names(dir)).toEqual([young]);
  });
});
