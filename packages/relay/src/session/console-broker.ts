import type { PowerAction } from '@lifeline/shared/core';
import type { ConsoleRights } from './console-rules.js';
import type { Person } from './person.js';

/**
 * The seam between the SSH front (a person's session channel) and the console sessions behind it.
 * The SSH side knows about channels, ptys and escape keys; the broker knows devices, tunnels and
 * who is attached. Recording, shadowing and other console kinds plug in behind this interface.
 */

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** One attach: who (by reference, the value made at login), to which device, at what terminal. */
export interface ConsoleRequest<P extends Person = Person> {
  /** The person asking; their `attachAs` decides the kind of attachment they get. */
  person: P;
  /** Device named in a `USER:DEVICE` login or chosen from the menu; undefined means the user's default device. */
  deviceId: string | undefined;
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

/** What every attachment has, whether its person came to work the console or only to watch. */
export interface AttachmentBase {
  readonly deviceId: string;
  resize(size: TerminalSize): void;
  /** Who is attached, one line each (who holds read-write, who watches), for the person. */
  who(): Promise<string[]>;
  /**
   * What this person may do right now (BREAK, take over, power), each with the reason when not:
   * the same verdicts the participant's `sendBreak`, `takeOver` and `power` enforce, for menus and
   * help. An observer's rights deny everything but power status, with the reason to show.
   */
  rights(): ConsoleRights;
  /** The person left (channel closed, `~.`, escape-disconnect). Idempotent. */
  detach(reason: string): void;
}

/**
 * A `USER:DEVICE:watch` attachment: read-only by construction (Teleport's observers have no input
 * pump). It has no `input`, `sendBreak`, `takeOver` or power change at all, so no code path can
 * type into, break, take or power-cycle the console through it; only the power state can be asked.
 */
export interface ObserverAttachment extends AttachmentBase {
  readonly kind: 'observer';
  /**
   * Asks the BMC for the power state; resolves with its answer. Throws LifelineError
   * POWER_UNSUPPORTED, POWER_FAILED or ROUTE_DEVICE_OFFLINE.
   */
  powerStatus(): Promise<string>;
}

/** A person who came to work the console: read-write or read-only by the writer rules. */
export interface ParticipantAttachment extends AttachmentBase {
  readonly kind: 'participant';
  /**
   * Keystrokes from the person, already stripped of escape commands. Resolves when the console
   * path has taken them: the caller pauses the person's channel until then, so a long upload
   * (XMODEM at 9600 baud) is held back by SSH flow control instead of piling up in the relay.
   * A read-only participant's input is dropped (they are told once).
   */
  input(data: Buffer): Promise<void>;
  /**
   * Sends a BREAK on the device's line. `requestedMs` is what the client asked for (0 or
   * undefined: device default); it is clamped to the device's maximum. Resolves once the break
   * is on its way; rejects with ROUTE_DEVICE_OFFLINE if the device went away, SESSION_NOT_PERMITTED
   * when this person does not hold read-write.
   */
  sendBreak(requestedMs: number | undefined): Promise<void>;
  /**
   * Takes read-write on this console. Allowed when nobody holds it, or, for supervisors and
   * admins, from the current writer (who continues read-only). Throws LifelineError
   * SESSION_NOT_PERMITTED with a line fit to show the person.
   */
  takeOver(): Promise<void>;
  /**
   * Queries or changes the device's power through its BMC; resolves with the BMC's answer.
   * `status` is for anyone attached, the rest for supervisors and admins. Throws LifelineError
   * SESSION_NOT_PERMITTED, POWER_UNSUPPORTED, POWER_FAILED or ROUTE_DEVICE_OFFLINE.
   */
  power(action: PowerAction): Promise<string>;
}

/** A person's handle on the console they are attached to; `kind` (their `attachAs`) tells which. */
export type ConsoleAttachment = ObserverAttachment | ParticipantAttachment;

/**
 * The attachment a person gets: an observer an ObserverAttachment, a participant a
 * ParticipantAttachment, and a kind known only at run time the union (narrow it on `kind`).
 */
export type AttachmentFor<P extends Person> =
  P extends Person<'observer'> ? ObserverAttachment : P extends Person<'participant'> ? ParticipantAttachment : ConsoleAttachment;

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

/** One line of the device menu: a device the person may reach, and whether its agent is connected. */
export interface DeviceChoice {
  id: string;
  description: string | undefined;
  online: boolean;
}

export interface ConsoleBroker {
  /**
   * The devices this person may reach now, sorted by id, by the same rule `attach` routes with
   * (so a menu built from it offers nothing `attach` would refuse, and hides every other device).
   */
  devicesFor(user: string): DeviceChoice[];
  /**
   * Attaches a person to a device's console. Throws LifelineError `ROUTE_DEVICE_UNAVAILABLE`
   * (unknown or forbidden: one message for both, so nothing leaks) or `ROUTE_DEVICE_OFFLINE`;
   * the error message is a line fit to show the person. With `wait`, an offline device is not an
   * error: the person is told (`terminal.notice`) and the promise resolves once the agent is back,
   * or rejects with ROUTE_DEVICE_OFFLINE when the person gives up. An observer (`:watch`) gets an
   * ObserverAttachment, a participant a ParticipantAttachment.
   */
  attach<P extends Person>(request: ConsoleRequest<P>, terminal: PartyTerminal, wait?: OfflineWait): Promise<AttachmentFor<P>>;
}
