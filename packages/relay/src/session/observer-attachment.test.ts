import { describe, expect, it } from 'vitest';
import type { AttachmentFor, ConsoleAttachment, ObserverAttachment, ParticipantAttachment } from './console-broker.js';
import type { Person } from './person.js';

// Type-level: this file is compiled by `tsc -p test/tsconfig.json`. Each `@ts-expect-error` below
// fails that compile as soon as the call it marks becomes valid, i.e. if someone gives an
// observer's attachment an input path, BREAK, takeover or power change again.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

function observerCannot(observer: ObserverAttachment): void {
  // @ts-expect-error an observer has no input path at all
  void observer.input(Buffer.from('reload\r'));
  // @ts-expect-error an observer cannot send BREAK
  void observer.sendBreak(undefined);
  // @ts-expect-error an observer cannot take read-write
  void observer.takeOver();
  // @ts-expect-error an observer cannot change power (status only, through powerStatus)
  void observer.power('cycle');
  void observer.powerStatus();
}

function participantCan(participant: ParticipantAttachment): void {
  void participant.input(Buffer.from('x'));
  void participant.sendBreak(undefined);
  void participant.takeOver();
  void participant.power('cycle');
}

describe("the attachment a person gets follows from the person's kind", () => {
  it('an observer (:watch) gets an ObserverAttachment, a participant a ParticipantAttachment, an unknown kind the union', () => {
    const watch: Same<AttachmentFor<Person<'observer'>>, ObserverAttachment> = true;
    const participate: Same<AttachmentFor<Person<'participant'>>, ParticipantAttachment> = true;
    const unknown: Same<AttachmentFor<Person>, ConsoleAttachment> = true;
    expect([watch, participate, unknown]).toEqual([true, true, true]);
    expect([observerCannot, participantCan].map((f) => f.length)).toEqual([1, 1]);
  });
});
