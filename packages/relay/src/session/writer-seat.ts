import type { Logger } from '@lifeline/shared/core';
import type { Party } from './party.js';
import { personLogFields } from './person.js';

export type WriterChange = 'first' | 'free' | 'takeover' | 'writer-left';

/**
 * Who holds read-write on one console, and how it changes hands: logged as `{from, to}`, marked in
 * every recording, and told to the people it passes between. Only a participant's party can hold
 * it (the type says so: an observer's party is never a `Party<'participant'>`). Whether a person
 * may take it is decided by the rules (console-rules.ts), not here.
 */
export class WriterSeat {
  private current: Party<'participant'> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly markAll: (label: string) => void,
  ) {}

  get holder(): Party<'participant'> | undefined {
    return this.current;
  }

  set(next: Party<'participant'> | undefined, reason: WriterChange, previous?: Party<'participant'>): void {
    this.current = next;
    const from = previous?.person.user;
    const to = next?.person.user;
    this.logger.info(
      { event: 'session.writer', ...(next ? personLogFields(next.person) : {}), from, to, reason },
      `read-write: ${from ?? 'nobody'} -> ${to ?? 'nobody'}`,
    );
    if (reason !== 'first') this.markAll(`${reason}: read-write ${from ?? 'nobody'} -> ${to ?? 'nobody'}`);
    if (previous) {
      previous.resetReadOnlyNotice();
      previous.terminal.notice(`${to ?? 'somebody'} took over read-write; you are now read-only.`);
    }
    if (next && reason !== 'first') next.terminal.notice('you now have read-write.');
  }

  /** The writer left: the earliest participant to join (never an observer) inherits read-write. */
  passOn(leaving: Party, remaining: Iterable<Party>): void {
    const heir = [...remaining].find((p) => p.isParticipant());
    this.set(heir, 'writer-left', undefined);
    if (heir) heir.terminal.notice(`${leaving.person.user} left; you now have read-write.`);
  }

  /** What a person who joins without read-write is told, in the words of their kind of attachment. */
  readOnlyLine(party: Party, mayTakeOver: boolean): string {
    const writer = this.current?.person.user;
    if (party.kind === 'observer') return `watching read-only${writer ? `; ${writer} has read-write` : ''}.`;
    return `${writer ?? 'somebody'} has read-write; you are read-only${mayTakeOver ? ' (escape key, then t, takes over)' : ''}.`;
  }
}
