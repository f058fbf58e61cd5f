/**
 * In-band escape commands for people whose client cannot send an SSH break request: the escape
 * key (default ^], like telnet) followed by a command letter. Unlike OpenSSH's `~`, it works
 * anywhere in the stream, not only after a newline. Only used for sessions with a pty; sessions
 * without one stay binary-transparent.
 */

export type EscapeCommand =
  /** Send a BREAK (device default length). */
  | 'break'
  /** Show the list of commands. */
  | 'help'
  /** Leave the session. */
  | 'disconnect'
  /** Take read-write from the current writer (supervisors), or take it when free. */
  | 'takeover'
  /** List who is attached. */
  | 'who'
  /** Open the power menu (IPMI consoles). */
  | 'power'
  /** A key that is not a command: show a one-line hint. */
  | 'unknown';

/** One step of the input, in order: keystrokes for the device or an escape command. */
export type EscapeStep = { kind: 'data'; data: Buffer } | { kind: 'command'; command: EscapeCommand };

const COMMANDS: Record<string, EscapeCommand> = {
  b: 'break',
  B: 'break',
  '?': 'help',
  h: 'help',
  H: 'help',
  '.': 'disconnect',
  t: 'takeover',
  T: 'takeover',
  w: 'who',
  W: 'who',
  p: 'power',
  P: 'power',
};

/**
 * Turns the config's `escapeChar` (`^]`, `^A`, ..., or `none`) into a byte; undefined for `none`.
 * Throws on anything else (the config schema already refuses it).
 */
export function parseEscapeChar(setting: string): number | undefined {
  if (setting === 'none') return undefined;
  const m = /^\^([@A-Z[\\\]^_])$/.exec(setting);
  if (!m) throw new Error(`escape character must be written ^X or "none", got ${JSON.stringify(setting)}`);
  return m[1]!.charCodeAt(0) ^ 0x40;
}

/** `^]` for 0x1d: how people name a control key. */
export function escapeKeyName(byte: number): string {
  return `^${String.fromCharCode(byte ^ 0x40)}`;
}

/** The help screen, one string per line (no line endings). */
export function escapeHelpLines(byte: number): string[] {
  const k = escapeKeyName(byte);
  return [
    `escape commands: press ${k}, then`,
    `  b   send BREAK to the device`,
    `  w   who is attached, and who has read-write`,
    `  t   take read-write (when free; from another person: supervisors and admins)`,
    `  p   power: status, on, off, cycle, reset (IPMI consoles; changes need supervisor or admin)`,
    `  .   disconnect`,
    `  ?   this help (also h)`,
    `  ${k}  send ${k} itself`,
  ];
}

/** The answer to an escape key followed by something that is not a command. */
export function escapeHintLine(byte: number): string {
  return `unknown escape command; ${escapeKeyName(byte)} ? lists them`;
}

/**
 * Splits a person's keystrokes into data for the device and escape commands. Keeps state across
 * chunks, so an escape key at the end of one chunk and its letter in the next still work.
 */
export class EscapeHandler {
  private pending = false;

  constructor(private readonly escapeByte: number) {}

  feed(chunk: Buffer): EscapeStep[] {
    const steps: EscapeStep[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.pending) {
        this.pending = false;
        start = i + 1;
        if (byte === this.escapeByte) {
          steps.push({ kind: 'data', data: Buffer.from([byte]) });
        } else {
          steps.push({ kind: 'command', command: COMMANDS[String.fromCharCode(byte)] ?? 'unknown' });
        }
      } else if (byte === this.escapeByte) {
        if (i > start) steps.push({ kind: 'data', data: chunk.subarray(start, i) });
        this.pending = true;
        start = i + 1;
      }
    }
    if (!this.pending && start < chunk.length) steps.push({ kind: 'data', data: chunk.subarray(start) });
    return steps;
  }

  /** True when the last chunk ended with the escape key, waiting for its command letter. */
  get awaitingCommand(): boolean {
    return this.pending;
  }
}
