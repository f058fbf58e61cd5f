/** A person's role in the inventory: what they may do at a console besides typing. */
export type Role = 'engineer' | 'supervisor' | 'admin';

/**
 * How a person attaches to a console: a `participant` came to work it (read-write or read-only
 * by the writer rules), an `observer` (`USER:DEVICE:watch`) only to watch, with no input path at
 * all. The kind picks the attachment's type (console-broker.ts) and its rules (console-rules.ts).
 */
export type AttachmentKind = 'participant' | 'observer';

/**
 * Who one console session's person is: made once where the login is accepted
 * (ssh/client-connection.ts), immutable, and passed by reference to everything that means this
 * person (their connection and session, the attach request, the broker, their party on the hub,
 * the audit log). Nothing copies its fields into another shape; log and audit lines take theirs
 * from `personLogFields`.
 *
 * The role is not part of it: the inventory's role is read at the moment of each action (take
 * over, power), so a reload that demotes someone applies to their next action (DeviceHubDeps.roleOf).
 * Which device is not part of it either: a person may choose it after logging in (the device menu).
 */
export interface Person<K extends AttachmentKind = AttachmentKind> {
  /** Authenticated user name, as the inventory knows it. */
  readonly user: string;
  /**
   * This console session's id (UUID): the audit log, recording names, logs. A second console
   * session on the same connection (ControlMaster) is a Person of its own (`nextConsoleSession`).
   */
  readonly sessionId: string;
  /** Where the person connects from, `address:port` (unique among live connections). */
  readonly peer: string;
  /** Participant or observer (`USER:DEVICE:watch`). */
  readonly attachAs: K;
}

/** Makes the one immutable value for a person whose login was just accepted. */
export function newPerson<K extends AttachmentKind>(fields: Person<K>): Person<K> {
  return Object.freeze({ user: fields.user, sessionId: fields.sessionId, peer: fields.peer, attachAs: fields.attachAs });
}

/**
 * The same person in another console session of the same login (a second session channel on
 * one connection): a new value that differs only in its session id, so its recording, audit lines
 * and `lifeline-relay sessions` entry are its own.
 */
export function nextConsoleSession<K extends AttachmentKind>(person: Person<K>, sessionId: string): Person<K> {
  return newPerson({ ...person, sessionId });
}

/** The fields every log and audit line about a person carries. */
export type PersonLogFields = Pick<Person, 'user' | 'sessionId' | 'peer' | 'attachAs'>;

/**
 * THE way a log or audit line names a person: `{ user, sessionId, peer, attachAs }`, spread into
 * the line (or into a child logger's bindings), so no call site spells these out by hand and
 * every line about one session can be found by the same `sessionId`.
 */
export function personLogFields(person: Person): PersonLogFields {
  return { user: person.user, sessionId: person.sessionId, peer: person.peer, attachAs: person.attachAs };
}
