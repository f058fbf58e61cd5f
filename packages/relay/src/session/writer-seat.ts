import type { Logger } from '@lifeline/shared';
import type { Party } from './party.js';

export type WriterChange = 'first' | 'free' | 'takeover' | 'writer-left';

/**
 * Who holds read-write on one console, and how it changes hands: logged as `{from, to}`, marked in
 * every recording, and told to the people it passes between. Whether a person may take it is
 * decided by the rules (console-rules.ts), not here.
 */
export class WriterSeat {
  private current: Party | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly markAll: (label: string) => void,
  ) {}

  get holder(): Party | undefined {
    return this.current;
  }

  set(next: Party | undefined, reason: WriterChange, previous?: Party): void {
    this.current = next;
    this.logger.info(
      { event: 'session.writer', from: previous?.user, to: next?.user, reason, sessionId: next?.info.sessionId, peer: next?.info.peer },
      `read-write: ${previous?.user ?? 'nobody'} -> ${next?.user ?? 'nobody'}`,
    );
    if (reason !== 'first') this.markAll(`${reason}: read-write ${previous?.user ?? 'nobody'} -> ${next?.user ?? 'nobody'}`);
    if (previous) {
      previous.resetReadOnlyNotice();
      previous.terminal.notice(`${next?.user ?? 'somebody'} took over read-write; you are now read-only.`);
    }
    if (next && reason !== 'first') next.terminal.notice('you now have read-write.');
  }

  /** The writer left: the earliest to join who did not come only to watch inherits read-write. */
  passOn(leaving: Party, remaining: Iterable<Party>): void {
    const heir = [...remaining].find((p) => !p.info.watch);
    this.set(heir, 'writer-left', undefined);
    if (heir) heir.terminal.notice(`${leaving.user} left; you now have read-write.`);
  }

  /** What a person who joins without read-write is told. */
  readOnlyLine(party: Party, mayTakeOver: boolean): string {
    if (party.info.watch) return `watching read-only${this.current ? `; ${this.current.user} has read-write` : ''}.`;
    return `${this.current?.user ?? 'somebody'} has read-write; you are read-only${mayTakeOver ? ' (escape key, then t, takes over)' : ''}.`;
  }
}
