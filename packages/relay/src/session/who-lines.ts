import type { Party } from './party.js';

/** How `who` shows a person without read-write, by their kind of attachment. */
const WITHOUT_READ_WRITE = { participant: 'read-only', observer: 'watching' } as const;

/** Who is attached, one line each (who holds read-write, who watches), as `asker` sees it. */
export function whoLines(parties: readonly Party[], writer: Party | undefined, asker: Party): string[] {
  return parties.map((p) => {
    const mode = p === writer ? 'read-write' : WITHOUT_READ_WRITE[p.kind];
    const since = new Date(p.joinedAt).toISOString().slice(11, 19);
    return `${p.person.user}${p === asker ? ' (you)' : ''}: ${mode}, since ${since} UTC, from ${p.person.peer}`;
  });
}
