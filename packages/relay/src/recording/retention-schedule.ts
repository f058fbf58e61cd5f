import { performance } from 'node:perf_hooks';
import type { Clock, Logger, TimerHandle } from '@lifeline/shared/core';
import { ungatedDisk, type DiskGate } from './disk-gate.js';
import { pruneRecordings } from './recording-retention.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Wall clock and elapsed time may drift this far apart before it counts as a clock step. */
const JUMP_TOLERANCE_MS = 60 * 60 * 1000;

export interface RetentionScheduleOptions {
  dir: string;
  retentionDays: number;
  logger: Logger;
  /** Wall clock (names the age of a recording) and the daily timer. */
  clock: Clock;
  /** Milliseconds that only ever go forward (performance.now); tests pass their own. */
  elapsed?: () => number;
  gate?: DiskGate;
  /** Told the files each prune deleted (the group's recordings index forgets them). */
  onRemoved?: (paths: string[]) => void;
}

/**
 * Prunes old recordings at start and once a day; 0 days keeps them forever. The age of a
 * recording is measured against the wall clock as it was when the relay started plus the time
 * elapsed since (a monotonic clock), or the wall clock now if that is earlier: a clock stepped
 * forward while the relay runs (a bad NTP answer, a mistyped `date`) makes nothing look older,
 * so it cannot delete every recording at the next prune; a step is logged
 * (`recording.clock-jump`). Each deleted file is logged (`recording.deleted`). A clock that is
 * already wrong when the relay starts cannot be told from a right one.
 */
export function startRetention(options: RetentionScheduleOptions): TimerHandle {
  const { dir, retentionDays: days, logger, clock } = options;
  const elapsed = options.elapsed ?? (() => performance.now());
  const wallAtStart = clock.now();
  const elapsedAtStart = elapsed();
  let timer: TimerHandle | undefined;
  let stopped = false;
  const run = () => {
    const wall = clock.now();
    const steady = wallAtStart + (elapsed() - elapsedAtStart);
    if (Math.abs(wall - steady) > JUMP_TOLERANCE_MS) {
      logger.warn(
        { event: 'recording.clock-jump', wallClock: new Date(wall).toISOString(), byElapsedTime: new Date(steady).toISOString() },
        'the system clock was stepped since the relay started; retention goes by the time elapsed instead',
      );
    }
    const now = new Date(Math.min(wall, steady));
    void (options.gate ?? ungatedDisk)
      .run(() => pruneRecordings(dir, days, now))
      .then(
        (result) => {
          for (const path of result.removed)
            logger.info({ event: 'recording.deleted', path, retentionDays: days }, 'old recording deleted');
          if (result.removed.length > 0) options.onRemoved?.(result.removed);
          if (result.removed.length > 0)
            logger.info({ event: 'recording.pruned', removed: result.removed.length, retentionDays: days }, 'old recordings deleted');
          for (const f of result.failed)
            logger.warn({ event: 'recording.prune-failed', path: f.path, err: f.error.message }, 'cannot delete an old recording');
        },
        (err: unknown) => logger.warn({ event: 'recording.prune-failed', err }, 'recording retention failed'),
      );
    if (!stopped) timer = clock.setTimeout(run, DAY_MS);
  };
  if (days > 0) run();
  return {
    cancel: () => {
      stopped = true;
      timer?.cancel();
    },
  };
}
