import type { Clock } from '@lifeline/shared/core';
import type { SessionRecorder } from '../recording/session-recorder.js';
import type { PartyTerminal } from './console-broker.js';
import type { AttachmentKind, Person } from './person.js';

/**
 * One person attached to a device's console, with their recording and counters. Output to a
 * viewer that stops reading is bounded: past `bufferBytes` queued, the viewer is cut off, so it
 * can never slow the writer, the other viewers or the recordings. `K` is the person's kind of
 * attachment: only a `Party<'participant'>` can hold read-write (writer-seat.ts).
 */
export class Party<K extends AttachmentKind = AttachmentKind> {
  readonly joinedAt: number;
  bytesIn = 0;
  bytesOut = 0;
  private toldReadOnly = false;
  private gone = false;

  constructor(
    /** Who this is: the value made at login, by reference (person.ts). */
    readonly person: Person<K>,
    readonly terminal: PartyTerminal,
    readonly recorder: SessionRecorder,
    clock: Clock,
  ) {
    this.joinedAt = clock.now();
  }

  /** Participant or observer: the kind of attachment this party was given (the person's `attachAs`). */
  get kind(): K {
    return this.person.attachAs;
  }

  /** Whether this party came to work the console (and so may hold read-write). */
  isParticipant(): this is Party<'participant'> {
    return this.person.attachAs === 'participant';
  }

  /**
   * Device output for a viewer. Returns false when the viewer fell too far behind (more than
   * `bufferBytes` written but not yet taken by its client) and was cut off; the caller drops it.
   * A viewer that reads as fast as the writer keeps its queue short and is never cut off.
   */
  viewerOutput(chunk: Buffer, bufferBytes: number): boolean {
    this.count(chunk);
    this.terminal.write(chunk);
    if (this.terminal.queuedBytes() <= bufferBytes) return true;
    this.abort('you were disconnected: your connection could not keep up with the console output.');
    return false;
  }

  /** Device output for the writer. Returns false when the writer's channel is full. */
  writerOutput(chunk: Buffer): boolean {
    this.count(chunk);
    return this.terminal.write(chunk);
  }

  /**
   * Tells a read-only participant once that typing does nothing, not at every keystroke. (An
   * observer has no input path to the hub at all: its front says so, ssh/escape-commands.ts.)
   */
  noteIgnoredInput(writer: string | undefined): void {
    if (this.toldReadOnly) return;
    this.toldReadOnly = true;
    const who = writer ? `${writer} has read-write` : 'nobody has read-write';
    this.terminal.notice(`you are read-only (${who}); what you type is not sent.`);
  }

  /** Read-only again after having written: the next ignored keystroke is worth a notice. */
  resetReadOnlyNotice(): void {
    this.toldReadOnly = false;
  }

  abort(line: string): void {
    if (this.gone) return;
    this.gone = true;
    this.terminal.abort(line);
  }

  private count(chunk: Buffer): void {
    this.bytesOut += chunk.length;
    this.recorder.output(chunk);
  }
}
