import { LifelineError, type Logger, type WriterRefusal } from '@lifeline/shared/core';
import type { Party } from './party.js';
import { personLogFields } from './person.js';
import type { DeviceSeatLease, SeatGrant, WriterElsewhere } from './seat-lease.js';

export type WriterChange = 'first' | 'free' | 'takeover' | 'writer-left' | 'lost';

export interface WriterSeatDeps {
  logger: Logger;
  markAll(label: string): void;
  /** Tells every person attached here one line. */
  noticeAll(line: string): void;
  /** The people attached here now, in the order they joined. */
  parties(): Iterable<Party>;
  /** Whether the seat may be given (a relay alone: always; a group: the group's writer lease). */
  lease: DeviceSeatLease;
  /** Sends this relay's fencing token to the agent on the console stream (LIFELINE-WRITER). */
  sendToken(token: bigint): void;
}

/**
 * Who holds read-write on one console, and how it changes hands: logged as `{from, to}`, marked in
 * every recording, and told to the people it passes between. Only a participant's party can hold
 * it (the type says so: an observer's party is never a `Party<'participant'>`). Whether a person
 * may take it is decided by the rules (console-rules.ts), not here; whether this relay may give it
 * is the seat lease's (seat-lease.ts): in a relay group the seat is one for the whole group, and a
 * writer on another member is a fact here too (`writerName`, for the rules and the lines people
 * see). Changes run one at a time, in order, since asking the group takes a round trip.
 */
export class WriterSeat {
  private current: Party<'participant'> | undefined;
  private token: bigint | undefined;
  /** The group's writer when on another member, as last seen here. */
  private elsewhere: WriterElsewhere | undefined;
  /** Why the group could not answer the last claim (its database away): said to who joins read-only. */
  private unanswered: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly unwatch: () => void;

  constructor(private readonly deps: WriterSeatDeps) {
    this.unwatch = deps.lease.watch(() => void this.serial(() => this.leaseChanged()));
  }

  get holder(): Party<'participant'> | undefined {
    return this.current;
  }

  /** Who has read-write as people are told: the writer here, or `alice on relay HOST:PORT`. */
  get writerName(): string | undefined {
    if (this.current) return this.current.person.user;
    return this.elsewhere ? `${this.elsewhere.user} on relay ${this.elsewhere.relay}` : undefined;
  }

  /** A participant joined: seats them if nobody in the group has read-write. Resolves whether it did. */
  seatIfFree(party: Party<'participant'>): Promise<boolean> {
    return this.serial(() => (this.current ? false : this.claimFor(party, 'first')));
  }

  /** The rules allowed `party` to take read-write (console-rules.ts): from whoever has it, here or elsewhere. */
  takeOver(party: Party<'participant'>): Promise<void> {
    return this.serial(() => {
      const previous = this.current;
      if (previous === party) return;
      return then(this.deps.lease.takeOver(party.person), (grant) => this.tookOver(party, previous, grant));
    });
  }

  private tookOver(party: Party<'participant'>, previous: Party<'participant'> | undefined, grant: SeatGrant): void {
    if (!grant.granted)
      throw new LifelineError(
        'SESSION_NOT_PERMITTED',
        `read-write cannot change hands now: ${grant.why ?? 'the relay group did not answer'}.`,
      );
    if (!this.attached(party)) return this.deps.lease.release(grant.token);
    const from = previous?.person.user ?? this.writerName;
    this.elsewhere = undefined;
    this.seat(party, grant.token, from ? 'takeover' : 'free', previous, from);
  }

  /** `party` left: if it had read-write, the seat is freed and the earliest participant here claims it. */
  leave(party: Party): void {
    if (this.current !== party) return;
    const token = this.token;
    this.current = undefined;
    this.token = undefined;
    this.deps.lease.release(token);
    void this.serial(() => {
      if (this.current) return;
      const heir = this.earliestParticipant();
      // Logged as before the group's lease: `from` is left out, `reason: writer-left` says it.
      if (!heir) return this.seat(undefined, undefined, 'writer-left', undefined);
      return then(this.claimFor(heir, 'writer-left'), (won) => {
        if (won) heir.terminal.notice(`${party.person.user} left; you now have read-write.`);
      });
    });
  }

  /**
   * The agent refused what this relay sent (writer-fence at the agent): a larger token is out
   * there, so this relay's writer lost the seat (it was frozen or cut off and did not know).
   */
  refused(refusal: WriterRefusal): Promise<void> {
    return this.serial(() => {
      const holder = refusal.holder ? ` (${refusal.holder})` : '';
      const token = this.token;
      const writer = this.current;
      if (writer && token !== undefined && refusal.current !== undefined && refusal.current < token) {
        // The agent has not seen this relay's token (a new stream): send it again.
        this.deps.sendToken(token);
      } else if (writer && token !== undefined) {
        this.current = undefined;
        this.token = undefined;
        this.logChange(writer, undefined, 'lost');
        writer.resetReadOnlyNotice();
        writer.terminal.notice(
          `read-write moved to another relay of the group${holder}; what you typed was not sent; you are now read-only.`,
        );
      } else if (writer) {
        writer.terminal.notice(`input not sent: another relay of the group${holder} has read-write on this console.`);
      }
      this.deps.lease.recheck();
    });
  }

  /** A new console stream to the agent: it must hear this relay's token again before it takes input. */
  resendToken(): void {
    if (this.current && this.token !== undefined) this.deps.sendToken(this.token);
  }

  /** What a person who joins without read-write is told, in the words of their kind of attachment. */
  readOnlyLine(party: Party, mayTakeOver: boolean): string {
    const writer = this.writerName;
    if (party.kind === 'observer') return `watching read-only${writer ? `; ${writer} has read-write` : ''}.`;
    if (!writer && this.unanswered)
      return `read-write cannot be given now: ${this.unanswered}; you are read-only (escape key, then t, tries again).`;
    return `${writer ?? 'somebody'} has read-write; you are read-only${mayTakeOver ? ' (escape key, then t, takes over)' : ''}.`;
  }

  close(): void {
    this.unwatch();
  }

  /** The group's seat changed by somebody else's doing: this relay's writer may have lost it, or it is free. */
  private async leaseChanged(): Promise<void> {
    const holder = this.deps.lease.holder();
    const mine = holder?.here === true && holder.token === this.token;
    const lost = this.current;
    if (lost && !mine) {
      this.current = undefined;
      this.token = undefined;
      this.logChange(lost, undefined, 'lost');
      lost.resetReadOnlyNotice();
      lost.terminal.notice(
        holder && !holder.here
          ? `${holder.user} on relay ${holder.relay} took over read-write; you are now read-only.`
          : 'read-write was lost: this relay dropped out of the relay group for a while; you are now read-only.',
      );
    }
    if (this.current) return;
    const before = this.elsewhere;
    if (holder && !holder.here) {
      const next = { user: holder.user, relay: holder.relay };
      this.elsewhere = next;
      // Between two other relays (a takeover there, or a member's death and a claim elsewhere): one line for everyone here.
      if (!lost && before && (before.user !== next.user || before.relay !== next.relay))
        this.deps.noticeAll(`read-write moved from ${before.user} on relay ${before.relay} to ${next.user} on relay ${next.relay}.`);
      return;
    }
    // Free (or a stale row of this relay's): the earliest participant here claims it; the first claim in the group wins.
    this.elsewhere = undefined;
    const gone = before ? `read-write is free: ${before.user} on relay ${before.relay} left it or that relay went away` : undefined;
    const heir = this.earliestParticipant();
    if (!heir) {
      // A lease of this relay's that nobody here holds (a claim answered too late, a release that failed): let it go.
      if (holder?.here) this.deps.lease.release(holder.token);
      if (gone) this.deps.noticeAll(`${gone}.`);
      return;
    }
    const won = await this.claimFor(heir, 'free', before?.user);
    if (!gone) return;
    for (const party of this.deps.parties()) {
      const now = won
        ? party === heir
          ? 'you now have read-write'
          : `${heir.person.user} has it now`
        : this.writerName
          ? `${this.writerName} has it now`
          : 'nobody has it now';
      party.terminal.notice(`${gone}; ${now}.`);
    }
  }

  /** Asks the lease for `party`; seats them when granted. Whether it did (at once when the lease answers at once). */
  private claimFor(party: Party<'participant'>, reason: WriterChange, from?: string): boolean | Promise<boolean> {
    return then(this.deps.lease.claim(party.person), (grant) => this.claimed(party, grant, reason, from));
  }

  private claimed(party: Party<'participant'>, grant: SeatGrant, reason: WriterChange, from: string | undefined): boolean {
    if (!grant.granted) {
      this.elsewhere = grant.holder;
      this.unanswered = grant.why;
      return false;
    }
    this.unanswered = undefined;
    if (!this.attached(party)) {
      this.deps.lease.release(grant.token);
      return false;
    }
    this.elsewhere = undefined;
    this.seat(party, grant.token, reason, undefined, from);
    return true;
  }

  private seat(
    next: Party<'participant'> | undefined,
    token: bigint | undefined,
    reason: WriterChange,
    previous: Party<'participant'> | undefined,
    from: string | undefined = previous?.person.user,
  ): void {
    this.current = next;
    this.token = token;
    this.logChange(from, next, reason);
    if (previous) {
      previous.resetReadOnlyNotice();
      previous.terminal.notice(`${next?.person.user ?? 'somebody'} took over read-write; you are now read-only.`);
    }
    if (next && reason !== 'first' && reason !== 'writer-left' && reason !== 'free') next.terminal.notice('you now have read-write.');
    if (next && reason === 'free' && !previous && from === undefined) next.terminal.notice('you now have read-write.');
    if (next && token !== undefined) this.deps.sendToken(token);
  }

  private logChange(from: Party | string | undefined, next: Party | undefined, reason: WriterChange): void {
    const fromName = typeof from === 'string' ? from : from?.person.user;
    const to = next?.person.user;
    this.deps.logger.info(
      { event: 'session.writer', ...(next ? personLogFields(next.person) : {}), from: fromName, to, reason },
      `read-write: ${fromName ?? 'nobody'} -> ${to ?? 'nobody'}`,
    );
    if (reason !== 'first') this.deps.markAll(`${reason}: read-write ${fromName ?? 'nobody'} -> ${to ?? 'nobody'}`);
  }

  private earliestParticipant(): Party<'participant'> | undefined {
    for (const party of this.deps.parties()) if (party.isParticipant()) return party;
    return undefined;
  }

  private attached(party: Party): boolean {
    for (const p of this.deps.parties()) if (p === party) return true;
    return false;
  }

  /**
   * Runs seat changes one at a time, in the order asked; at once when nothing waits (so a relay
   * alone, whose lease answers synchronously, changes its seat in the same turn, as before).
   */
  private serial<T>(work: () => T | Promise<T>): Promise<T> {
    let run: Promise<T>;
    if (this.pending === 0) {
      let result: T | Promise<T>;
      try {
        result = work();
      } catch (err) {
        return Promise.reject(err);
      }
      if (!(result instanceof Promise)) return Promise.resolve(result);
      run = result;
    } else {
      run = this.queue.then(work);
    }
    this.pending++;
    const done = () => {
      this.pending--;
    };
    this.queue = run.then(done, done);
    return run;
  }
}

/** `next(value)`, at once for a plain value, after it for a promise. */
function then<T, R>(value: T | Promise<T>, next: (value: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
