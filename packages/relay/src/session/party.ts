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
  /** Bytes handed to a terminal that said it was full, since it last drained. */
  private backlog = 0;
  private congested = false;
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

  get mayTakeOver(): boolean {
    return !this.info.watch && (this.info.role === 'supervisor' || this.info.role === 'admin');
  }

  /**
   * Device output for a viewer. Returns false when the viewer fell too far behind and was cut
   * off; the caller drops it.
   */
  viewerOutput(chunk: Buffer, bufferBytes: number): boolean {
    this.count(chunk);
    if (this.congested) {
      this.backlog += chunk.length;
      if (this.backlog > bufferBytes) {
        this.abort('you were disconnected: your connection could not keep up with the console output.');
        return false;
      }
    }
    if (!this.terminal.write(chunk) && !this.congested) {
      this.congested = true;
      this.backlog = 0;
      this.terminal.onceDrain(() => {
        this.congested = false;
        this.backlog = 0;
      });
    }
    return true;
  }

  /** Device output for the writer. Returns false when the writer's channel is full. */
  writerOutput(chunk: Buffer): boolean {
    this.count(chunk);
    return this.terminal.write(chunk);
  }

  /** Tells a read-only person once that typing does nothing, not at every keystroke. */
  noteIgnoredInput(writer: string | undefined): void {
    if (this.toldReadOnly) return;
    this.toldReadOnly = true;
    const who = writer ? `${writer} has read-write` : 'nobody has read-write';
    this.terminal.notice(this.info.watch ? 'you are watching (read-only); what you type is not sent.' : `you are read-only (${who}); what you type is not sent.`);
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
