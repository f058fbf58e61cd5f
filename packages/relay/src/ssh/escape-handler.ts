import { LifelineError } from '@lifeline/shared/core';
import type { ConsoleRights, Verdict } from '../session/console-rules.js';

/**
 * In-band escape commands for people whose client cannot send an SSH break request: the escape
 * key (default ^], like telnet) followed by a command letter. Unlike OpenSSH's `~`, it works
 * anywhere in the stream, not only after a newline (^] is a control key nobody types by
 * accident, and a line-start rule would not make binary transfers safe anyway). Only used for
 * sessions with a pty; sessions without one, and people whose `escapeChar` is `none`, are
 * binary-transparent.
 *
 * The rule after the escape key, all of it: a command key runs the command; the escape key again
 * sends one escape byte; any other byte is sent on together with the escape byte before it, both
 * unchanged. So nothing typed is lost, and the only byte pairs a pty session changes are the
 * escape key followed by a command key or by itself.
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
  | 'power';

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
 * Throws LifelineError CONFIG_INVALID on anything else (the config schema already refuses it).
 */
export function parseEscapeChar(setting: string): number | undefined {
  if (setting === 'none') return undefined;
  const m = /^\^([@A-Z[\\\]^_])$/.exec(setting);
  if (!m) throw new LifelineError('CONFIG_INVALID', `escape character must be written ^X or "none", got ${JSON.stringify(setting)}`);
  return m[1]!.charCodeAt(0) ^ 0x40;
}

/** `^]` for 0x1d: how people name a control key. */
export function escapeKeyName(byte: number): string {
  return `^${String.fromCharCode(byte ^ 0x40)}`;
}

/**
 * The help screen, one string per line (no line endings), offering only what this person may do
 * on this console now (`rights`, the same verdicts the handlers enforce) and saying why not for
 * the rest, e.g. "power: not available, this console has no BMC".
 */
export function escapeHelpLines(byte: number, rights: ConsoleRights): string[] {
  const k = escapeKeyName(byte);
  const entry = (key: string, verdict: Verdict, offer: string, name: string) =>
    verdict.allowed ? `  ${key}   ${offer}` : `      ${name}: not available, ${verdict.why}`;
  return [
    `escape commands: press ${k}, then`,
    entry('b', rights.sendBreak, 'send BREAK to the device', 'BREAK'),
    `  w   who is attached, and who has read-write`,
    entry('t', rights.takeOver, 'take read-write', 'take read-write'),
    powerHelpLine(rights),
    `  .   disconnect`,
    `  ?   this help (also h)`,
    `  ${k}  send ${k} itself`,
    `  any other key is sent on with the ${k} before it, both unchanged`,
  ];
}

function powerHelpLine(rights: ConsoleRights): string {
  if (!rights.powerStatus.allowed) return `      power: ${rights.powerStatus.why}`;
  if (!rights.powerChange.allowed) return `  p   power status (${rights.powerChange.why.replace(/\.$/, '')})`;
  return `  p   power: status, on, off, soft off, cycle, reset`;
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
    // Pieces of the data run being gathered: slices of the chunk and held escape bytes, so a run
    // that an escape interrupted without a command still reaches the device as one piece.
    const run: Buffer[] = [];
    const endRun = () => {
      if (run.length === 0) return;
      steps.push({ kind: 'data', data: run.length === 1 ? run[0]! : Buffer.concat(run) });
      run.length = 0;
    };
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.pending) {
        this.pending = false;
        const command = byte === this.escapeByte ? undefined : COMMANDS[String.fromCharCode(byte)];
        if (command) {
          endRun();
          steps.push({ kind: 'command', command });
          start = i + 1;
        } else if (byte === this.escapeByte) {
          // Escape twice: one literal escape byte.
          run.push(Buffer.from([byte]));
          start = i + 1;
        } else {
          // Not a command: the held escape byte, then this byte with the data after it.
          run.push(Buffer.from([this.escapeByte]));
          start = i;
        }
      } else if (byte === this.escapeByte) {
        if (i > start) run.push(chunk.subarray(start, i));
        this.pending = true;
        start = i + 1;
      }
    }
    if (!this.pending && start < chunk.length) run.push(chunk.subarray(start));
    endRun();
    return steps;
  }

  /**
   * At the end of input: the escape byte still waiting for its next key, to send on as typed (so
   * nothing typed is lost), or undefined. The handler is idle afterwards.
   */
  endOfInput(): Buffer | undefined {
    if (!this.pending) return undefined;
    this.pending = false;
    return Buffer.from([this.escapeByte]);
  }

  /** True when the last chunk ended with the escape key, waiting for its command letter. */
  get awaitingCommand(): boolean {
    return this.pending;
  }
}
