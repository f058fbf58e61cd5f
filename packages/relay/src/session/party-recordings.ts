import type { Clock, Logger } from '@lifeline/shared/core';
import { discardRecorders, type RecorderFactory, type SessionRecorder } from '../recording/session-recorder.js';
import type { ConsoleRequest, PartyTerminal } from './console-broker.js';
import type { Party } from './party.js';
import type { Person } from './person.js';
import { recordingStatusReporter } from './recording-status.js';

export interface PartyRecordingsDeps {
  deviceId: string;
  logger: Logger;
  clock: Clock;
  /** Without one, a discard recorder stands in, so callers never branch on a flag. */
  recorders?: RecorderFactory;
}

/** Each attached person's recording on one device: opening them, and markers in all of them. */
export class PartyRecordings {
  private readonly recorders: RecorderFactory;

  constructor(private readonly deps: PartyRecordingsDeps) {
    this.recorders = deps.recorders ?? discardRecorders;
  }

  /** Returns at once: the file is made in the background and its status told to the person (recording-status.ts). */
  open(person: Person, term: ConsoleRequest['term'], terminal: PartyTerminal): SessionRecorder {
    const { deviceId, logger, clock } = this.deps;
    let recorder: SessionRecorder | undefined;
    return (recorder = this.recorders.open({
      deviceId,
      // The recording's name and header: whose session, which one.
      user: person.user,
      sessionId: person.sessionId,
      size: term?.size ?? { cols: 80, rows: 24 },
      term: term?.name,
      startedAt: new Date(clock.now()),
      onStatus: recordingStatusReporter({ person, terminal, logger, clock, path: () => recorder?.path }),
    }));
  }

  /** The person left: a last marker, then the file is closed in the background. */
  close(party: Party, reason: string): void {
    party.recorder.marker(`disconnect: ${reason}`);
    void party.recorder.close();
  }

  /** One marker in every attached party's recording. */
  markAll(parties: Iterable<Party>, label: string): void {
    for (const party of parties) party.recorder.marker(label);
  }
}
