import type { Party } from './party.js';

/** Who is attached, one line each (who holds read-write, who watches), as `asker` sees it. */
export function whoLines(parties: readonly Party[], writer: Party | undefined, asker: Party): string[] {
  return parties.map((p) => {
    const mode = p === writer ? 'read-write' : p.info.watch ? 'watching' : 'read-only';
    const since = new Date(p.joinedAt).toISOString().slice(11, 19);
    return `${p.user}${p === asker ? ' (you)' : ''}: ${mode}, since ${since} UTC, from ${p.info.peer}`;
  });
}
