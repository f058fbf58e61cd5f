import type { PowerAction } from '@lifeline/shared';
import type { ConsoleRights } from './console-rules.js';

/**
 * The seam between the SSH front (a person's session channel) and the console sessions behind it.
 * The SSH side knows about channels, ptys and escape keys; the broker knows devices, tunnels and
 * who is attached. Recording, shadowing and other console kinds plug in behind this interface.
 */

export interface TerminalSize {
  cols: number;
  rows: number;
}

export interface ConsoleRequest {
  /** Authenticated user name. */
  user: string;
  /** Device named in a `USER:DEVICE` login; undefined means the user's default device. */
  deviceId: string | undefined;
  /** `USER:DEVICE:watch`: attach read-only, with no input path at all. */
  watch: boolean;
  /** Unique per SSH session, for logs and (later) recordings. */
  sessionId: string;
  /** Source address of the person, `ip:port`. */
  peer: string;
  /** From pty-req; undefined for sessions without a pty (e.g. `ssh -T`, scripted transfers). */
  term: { name: string; size: TerminalSize } | undefined;
}

/** What the broker may do to the person's side of a session. */
export interface PartyTerminal {
  /** Console output for this person. Returns false when the person's channel is full. */
  write(data: Buffer): boolean;
  /** Calls `listener` once when a full channel (write returned false) can take data again. */
  onceDrain(listener: () => void): void;
  /** Output written but not yet taken by the person's client (what a stalled viewer costs us). */
  queuedBytes(): number;
  /** One line from lifeline itself (not from the device), shown as `[lifeline] ...`. */
  notice(line: string): void;
  /** Ends the person's session with this exit status (0 clean, non-zero otherwise). */
  end(exitCode: number): void;
  /**
   * Disconnects now, without waiting for output still queued (a viewer that stopped reading):
   * `line` is shown if it can still get through. Idempotent.
   */
  abort(line: string): void;
}

/** A person's handle on the console they are attached to. */
export interface ConsoleAttachment {
  readonly deviceId: string;
  /**
   * Keystrokes from the person, already stripped of escape commands. Resolves when the console
   * path has taken them: the caller pauses the person's channel until then, so a long upload
   * (XMODEM at 9600 baud) is held back by SSH flow control instead of piling up in the relay.
   */
  input(data: Buffer): Promise<void>;
  /**
   * Sends a BREAK on the device's line. `requestedMs` is what the client asked for (0 or
   * undefined: device default); it is clamped to the device's maximum. Resolves once the break
   * is on its way; rejects with ROUTE_DEVICE_OFFLINE if the device went away.
   */
  sendBreak(requestedMs: number | undefined): Promise<void>;
  resize(size: TerminalSize): void;
  /**
   * Takes read-write on this console. Allowed when nobody holds it, or, for supervisors and
   * admins, from the current writer (who continues read-only). Throws LifelineError
   * SESSION_NOT_PERMITTED with a line fit to show the person.
   */
  takeOver(): Promise<void>;
  /** Who is attached, one line each (who holds read-write, who watches), for the person. */
  who(): string[];
  /**
   * What this person may do right now (BREAK, take over, power), each with the reason when not:
   * the same verdicts `sendBreak`, `takeOver` and `power` enforce, for menus and help.
   */
  rights(): ConsoleRights;
  /**
   * Queries or changes the device's power through its BMC; resolves with the BMC's answer.
   * `status` is for anyone attached, the rest for supervisors and admins. Throws LifelineError
   * SESSION_NOT_PERMITTED, POWER_UNSUPPORTED, POWER_FAILED or ROUTE_DEVICE_OFFLINE.
   */
  power(action: PowerAction): Promise<string>;
  /** The person left (channel closed, `~.`, escape-disconnect). Idempotent. */
  detach(reason: string): void;
}

/** How a person at a terminal waits for an offline device instead of being turned away. */
export interface OfflineWait {
  /** Aborts when the person gives up (Ctrl-C, escape key then `.`, or the channel closed). */
  signal: AbortSignal;
  /** The keys that give up, for the waiting line, e.g. `Ctrl-C or ^] then .`. */
  giveUpKeys: string;
  /**
   * Called when the wait begins (the device is offline), so the front starts listening for the
   * give-up keys; input before that stays queued for the console as usual.
   */
  waiting(): void;
}

export interface ConsoleBroker {
  /**
   * Attaches a person to a device's console. Throws LifelineError `ROUTE_DEVICE_UNAVAILABLE`
   * (unknown or forbidden: one message for both, so nothing leaks) or `ROUTE_DEVICE_OFFLINE`;
   * the error message is a line fit to show the person. With `wait`, an offline device is not an
   * error: the person is told (`terminal.notice`) and the promise resolves once the agent is back,
   * or rejects with ROUTE_DEVICE_OFFLINE when the person gives up.
   */
  attach(request: ConsoleRequest, terminal: PartyTerminal, wait?: OfflineWait): Promise<ConsoleAttachment>;
}
