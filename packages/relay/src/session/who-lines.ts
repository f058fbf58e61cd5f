import { peerText } from '@lifeline/shared/core';
import type { Party } from './party.js';
import type { SnapshotPerson } from './session-snapshot.js';

/** How `who` shows a person without read-write, by their kind of attachment. */
const WITHOUT_READ_WRITE = { participant: 'read-only', observer: 'watching' } as const;

/** People on the same device through another member of the relay group, as that member described them. */
export interface PeopleElsewhere {
  /** The member's advertised `host:port`. */
  relay: string;
  people: SnapshotPerson[];
}

/** One `who` line; `relay` names another group member the person is attached through. */
function whoLine(p: { user: string; you: boolean; mode: string; since: number; peer: string; relay?: string }): string {
  const since = new Date(p.since).toISOString().slice(11, 19);
  return `${p.user}${p.you ? ' (you)' : ''}: ${p.mode}, since ${since} UTC, from ${p.peer}${p.relay ? `, on relay ${p.relay}` : ''}`;
}

/** Who is attached, one line each (who holds read-write, who watches), as `asker` sees it. */
export function whoLines(parties: readonly Party[], writer: Party | undefined, asker: Party): string[] {
  return parties.map((p) =>
    whoLine({
      user: p.person.user,
      you: p === asker,
      mode: p === writer ? 'read-write' : WITHOUT_READ_WRITE[p.kind],
      since: p.joinedAt,
      peer: p.person.peer,
    }),
  );
}

/**
 * The people attached to the same device through the other members of a relay group, one line
 * each, in the same words. What another member wrote is shown as text, never raw: it comes
 * through the database.
 */
export function whoLinesElsewhere(elsewhere: readonly PeopleElsewhere[]): string[] {
  return elsewhere.flatMap(({ relay, people }) =>
    people.map((p) =>
      whoLine({
        user: peerText(p.user),
        you: false,
        mode: p.readWrite ? 'read-write' : WITHOUT_READ_WRITE[p.attachAs === 'observer' ? 'observer' : 'participant'],
        since: Date.parse(p.since),
        peer: peerText(p.peer),
        relay: peerText(relay),
      }),
    ),
  );
}
