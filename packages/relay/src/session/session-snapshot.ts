import type { Party } from './party.js';
import { personLogFields, type PersonLogFields } from './person.js';

/** One person attached to a live console, as `lifeline-relay sessions --json` shows them. */
export type SnapshotPerson = PersonLogFields & {
  /** Whether they hold read-write now. */
  readWrite: boolean;
  /** When they joined (ISO 8601). */
  since: string;
};

/** What `lifeline-relay sessions` shows of one live device console (admin interface). */
export interface SessionSnapshot {
  deviceId: string;
  /** User holding read-write, if anyone. */
  writer: string | undefined;
  /** Users attached read-only (participants without read-write and observers). */
  viewers: string[];
  /**
   * Everyone attached, in the order they joined, named as the audit log names them (user,
   * sessionId, peer, attachAs), so a row leads to its recordings and audit lines. Relays from
   * before this field leave it out.
   */
  people?: SnapshotPerson[];
  /** When the first person still attached joined (ISO 8601). */
  since: string;
  /** Bytes from the device to people and from the writer to the device, since `since`. */
  bytesOut: number;
  bytesIn: number;
  /**
   * The relay group member hosting this session (its advertised `host:port`); only in a group,
   * where `sessions` on any member lists the whole group's.
   */
  relay?: string;
}

/** The people part of a hub's snapshot, from each party's Person (no other copy of who they are). */
export function snapshotPeople(parties: Iterable<Party>, writer: Party | undefined): SnapshotPerson[] {
  return [...parties].map((p) => ({
    ...personLogFields(p.person),
    readWrite: p === writer,
    since: new Date(p.joinedAt).toISOString(),
  }));
}
