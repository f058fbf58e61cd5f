import type { Clock } from '@lifeline/shared';
import type { SessionRecorder } from '../recording/session-recorder.js';
import type { PartyTerminal, TerminalSize } from './console-broker.js';

export type Role = 'engineer' | 'supervisor' | 'admin';

export interface PartyInfo {
  user: string;
  role: Role;
  sessionId: string;
  peer: string;
  /** Joined with `USER:DEVICE:watch`: never writes, by construction. */
  watch: boolean;
  size: TerminalSize | undefined;
}

/**
 * One person attached to a device's console, with their recording and counters. Output to a
 * viewer that stops reading is bounded: past `bufferBytes` queued, the viewer is cut off, so it
 * can never slow the writer, the other viewers or the recordings.
 */
export class Party {
  readonly joinedAt: number;
  bytesIn = 0;
  bytesOut = 0;
  size: TerminalSize | undefined;
  private toldReadOnly = false;
  private gone = false;

  constructor(
    readonly info: PartyInfo,
    readonly terminal: PartyTerminal,
    readonly recorder: SessionRecorder,
    clock: Clock,
  ) {
    this.joinedAt = clock.now();
    this.size = info.size;
  }

  get user(): string {
    return this.info.user;
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
