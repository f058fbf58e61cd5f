import { describe, expect, it } from 'vitest';
import type { AttachmentFor, ConsoleAttachment, ConsoleRequest, ObserverAttachment, ParticipantAttachment } from './console-broker.js';

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

describe('the attachment a request gets follows from its mode', () => {
  it('a :watch request gets an ObserverAttachment, any other a ParticipantAttachment, an unknown mode the union', () => {
    const watch: Same<AttachmentFor<ConsoleRequest & { watch: true }>, ObserverAttachment> = true;
    const participate: Same<AttachmentFor<ConsoleRequest & { watch: false }>, ParticipantAttachment> = true;
    const unknown: Same<AttachmentFor<ConsoleRequest>, ConsoleAttachment> = true;
    expect([watch, participate, unknown]).toEqual([true, true, true]);
    expect([observerCannot, participantCan].map((f) => f.length)).toEqual([1, 1]);
  });
});
