import type { Clock, Logger } from '@lifeline/shared/core';
import type { RecordingStatus } from '../recording/session-recorder.js';
import type { PartyTerminal } from './console-broker.js';
import { personLogFields, type Person } from './person.js';

/** The notice a person gets when their session stops being recorded. */
export function notRecordedNotice(reason: string): string {
  return `this session is NOT being recorded (${reason}); the console works as usual.`;
}

/**
 * The notice a person gets when recording resumes. Events that arrived meanwhile waited within
 * the recorder's bound, so `lost` may be 0: then nothing is missing; otherwise `from`/`to` bound
 * where the recording has its gap marker.
 */
export function recordingResumedNotice(lost: number, from: Date, to: Date): string {
  const hms = (d: Date) => d.toISOString().slice(11, 19);
  if (lost === 0) return 'this session is being recorded again; nothing is missing from the recording.';
  return `this session is being recorded again; the recording misses some output between ${hms(from)} and ${hms(to)} UTC.`;
}

/**
 * Turns a recorder's status changes (session-recorder.ts) into what the person and the audit
 * log are told: the one place that decides. Recording as expected says nothing; a recording
 * that cannot be made, or stops, gives the person a notice and the log `recording.stopped`
 * with the reason; recording again gives a notice naming the missing stretch and
 * `recording.resumed`.
 */
export function recordingStatusReporter(deps: {
  person: Person;
  terminal: PartyTerminal;
  logger: Logger;
  clock: Clock;
  path: () => string | undefined;
}): (status: RecordingStatus) => void {
  const { terminal, logger, clock } = deps;
  const who = personLogFields(deps.person);
  let stoppedAt: number | undefined;
  return (status) => {
    if (!status.recording) {
      if (stoppedAt !== undefined) return;
      stoppedAt = clock.now();
      logger.warn({ event: 'recording.stopped', ...who, reason: status.reason, path: deps.path() }, 'this session is not being recorded');
      terminal.notice(notRecordedNotice(status.reason));
      return;
    }
    if (stoppedAt === undefined) return;
    const now = clock.now();
    logger.info(
      { event: 'recording.resumed', ...who, lost: status.lost, stoppedMs: now - stoppedAt, path: deps.path() },
      'this session is being recorded again',
    );
    terminal.notice(recordingResumedNotice(status.lost, new Date(stoppedAt), new Date(now)));
    stoppedAt = undefined;
  };
}
