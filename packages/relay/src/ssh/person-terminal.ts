import type { ServerChannel } from 'ssh2';
import type { PartyTerminal } from '../session/console-broker.js';

/**
 * The most console output held back to be sent in one SSH packet: OpenSSH's maximum channel
 * packet (32 KiB), the size ssh2 cuts channel data into anyway.
 */
export const COALESCE_BYTES = 32 * 1024;

/**
 * The person's side of a console session on their SSH channel: the device's output with
 * backpressure, lifeline's own lines, and the end. lifeline's lines go to the terminal in a pty
 * session and to stderr otherwise, so the console bytes on stdout of a scripted or binary
 * session stay exactly the device's. Once ended, everything more is swallowed.
 *
 * Device output is coalesced for one event-loop turn (at most {@link COALESCE_BYTES}) before it
 * goes on the channel: the agent's tunnel delivers a serial console in small pieces, and OpenSSH's
 * `ssh` client takes many small packets slowly (an ssh2 server writing 4 KiB pieces reached 1.4
 * MB/s to `ssh -T`, 15-20 MB/s in 32 KiB pieces). It cut the relay's writes to people in the
 * throughput bench by three quarters (issue 11; the bench's MB/s did not move, see benchmarks.md).
 */
export class PersonTerminal implements PartyTerminal {
  private ended = false;
  /** Device output not yet on the channel, flushed at the next turn of the event loop or when full. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  /** Whether the terminal's cursor is at the start of a line, so our lines never start mid-prompt. */
  private atLineStart = true;

  /**
   * @param pty whether the session has a pty (lifeline's lines on the terminal, not stderr)
   * @param aborted called once when abort() cut the person off (the session is over)
   */
  constructor(
    private readonly channel: ServerChannel,
    private readonly pty: boolean,
    private readonly aborted: () => void,
  ) {}

  /** Whether end() or abort() has run. */
  get isEnded(): boolean {
    return this.ended;
  }

  // A person who left needs no more output: swallow it instead of writing after end.
  write(data: Buffer): boolean {
    if (this.ended || !this.channel.writable) return true;
    if (data.length === 0) return !this.channel.writableNeedDrain;
    this.atLineStart = data[data.length - 1] === 0x0a;
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= COALESCE_BYTES) return this.flush();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return !this.channel.writableNeedDrain;
  }

  /** Puts the held-back output on the channel; returns what channel.write said (false: full). */
  private flush(): boolean {
    if (this.pendingBytes === 0) return !this.channel.writableNeedDrain;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.ended || !this.channel.writable) return true;
    return this.channel.write(data);
  }

  onceDrain(listener: () => void): void {
    this.channel.once('drain', listener);
  }

  queuedBytes(): number {
    return this.channel.writableLength + this.pendingBytes;
  }

  notice(line: string): void {
    this.line(`[lifeline] ${line}`);
  }

  /** One line of lifeline's own, as is (notice() prefixes `[lifeline] `), on a line of its own. */
  line(text: string): void {
    if (this.ended || !this.channel.writable) return;
    this.flush();
    if (this.pty) this.channel.write(`${this.atLineStart ? '' : '\r\n'}${text}\r\n`);
    else this.channel.stderr.write(`${text}\n`);
    this.atLineStart = true;
  }

  /** Sends exit-status only after what was written so far has gone out, then EOF and close. Idempotent. */
  end(exitCode: number): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    const ch = this.channel;
    const finish = () => {
      ch.exit(exitCode);
      ch.end();
    };
    if (ch.writableLength === 0) finish();
    else ch.write(Buffer.alloc(0), finish);
  }

  // A stalled reader: say why (if it still gets through) and close the channel at once,
  // dropping what is queued for it, instead of waiting behind that queue as end() does.
  abort(line: string): void {
    if (this.ended) return;
    this.pending = [];
    this.pendingBytes = 0;
    this.notice(line);
    this.ended = true;
    this.aborted();
    this.channel.exit(1);
    this.channel.close();
  }
}
