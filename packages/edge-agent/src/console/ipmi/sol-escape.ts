/**
 * ipmitool's SOL escapes, made unreachable from data.
 *
 * `ipmitool sol activate` treats its escape character (`~`) as an escape only right after a CR
 * or LF, or as the very first byte it reads; then `~.` quits, `~B` sends a break, `~?` prints
 * help, `~^Z` suspends, and `~~` sends one `~`. Every other byte passes as it is.
 *
 * SolInputEncoder keeps the same "at line start" state as ipmitool, byte for byte and from the
 * process's first byte on, and doubles a `~` exactly when ipmitool would take it as an escape.
 * By induction both sides agree on the state before every byte, so a `~` that ipmitool sees at
 * line start is always followed by a second `~`, and data never triggers an escape (all 256
 * byte values in any order arrive unchanged). A break is `~B`, which needs the line-start state:
 * `breakSequence()` gives it only then.
 */
export const SOL_ESCAPE = 0x7e; // '~'
const CR = 0x0d;
const LF = 0x0a;

export class SolInputEncoder {
  private lineStart = true;

  /** True when ipmitool would take the next `~` as an escape: a break can be sent as it is. */
  get atLineStart(): boolean {
    return this.lineStart;
  }

  /** The bytes to write to ipmitool's stdin so that it sends exactly `data` to the BMC. */
  encode(data: Buffer): Buffer {
    let extra = 0;
    let state = this.lineStart;
    for (const byte of data) {
      if (state && byte === SOL_ESCAPE) extra++;
      state = byte === CR || byte === LF;
    }
    if (extra === 0) {
      this.lineStart = state;
      return data;
    }
    const out = Buffer.allocUnsafe(data.length + extra);
    let at = 0;
    for (const byte of data) {
      if (this.lineStart && byte === SOL_ESCAPE) out[at++] = SOL_ESCAPE;
      out[at++] = byte;
      this.lineStart = byte === CR || byte === LF;
    }
    return out;
  }

  /**
   * `~B`, ipmitool's break escape, when at line start; undefined otherwise (the caller must get a
   * fresh ipmitool, which starts at line start). ipmitool's state stays "line start" after it.
   */
  breakSequence(): Buffer | undefined {
    return this.lineStart ? Buffer.from([SOL_ESCAPE, 0x42]) : undefined;
  }
}

/** What ipmitool prints on stdout (the console's output stream) when it acts on `~B`. */
export const BREAK_NOTICE = Buffer.from('~B [send break]\n', 'latin1');

/**
 * Takes ipmitool's own `~B [send break]` line back out of the console output. ipmitool prints it
 * (line-buffered: one write) while handling our `~B`, between two flushes of console output, so
 * it sits whole at a chunk boundary of its stdout; the filter still matches across chunks and
 * holds back at most the bytes that could start the notice, and only while one is expected.
 */
export class SolOutputFilter {
  private expected = 0;
  private held: Buffer = Buffer.alloc(0);

  /** One more notice is on its way (a `~B` was written). */
  expectBreakNotice(): void {
    this.expected++;
  }

  get pendingNotices(): number {
    return this.expected;
  }

  /** Console bytes in `chunk` (and held before it), with expected notices removed. */
  push(chunk: Buffer): Buffer {
    if (this.expected === 0 && this.held.length === 0) return chunk;
    let data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const out: Buffer[] = [];
    while (this.expected > 0) {
      const at = data.indexOf(BREAK_NOTICE);
      if (at < 0) break;
      out.push(data.subarray(0, at));
      data = data.subarray(at + BREAK_NOTICE.length);
      this.expected--;
    }
    if (this.expected > 0) {
      const keep = partialNoticeAtEnd(data);
      this.held = Buffer.from(data.subarray(data.length - keep));
      data = data.subarray(0, data.length - keep);
    }
    out.push(data);
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** Whatever is held back (the process ended; no notice will complete it). */
  flush(): Buffer {
    const held = this.held;
    this.held = Buffer.alloc(0);
    this.expected = 0;
    return held;
  }
}

/** Length of the longest proper prefix of the notice that `data` ends with. */
function partialNoticeAtEnd(data: Buffer): number {
  for (let n = Math.min(BREAK_NOTICE.length - 1, data.length); n > 0; n--) {
    if (data.subarray(data.length - n).equals(BREAK_NOTICE.subarray(0, n))) return n;
  }
  return 0;
}
