import { isLifelineError, printable, type Logger } from '@lifeline/shared/core';
import type { DeviceSeatLease, SeatGrant, SeatHolder } from '../session/seat-lease.js';
import type { Person } from '../session/person.js';
import type { WriterLease, WriterLeases } from './writer-leases.js';

/** Said to a person who could not be given read-write because the group cannot be asked. */
const DATABASE_AWAY = "the relay group's database cannot be reached";
const NOT_JOINED = 'this relay has not joined its relay group yet';
/**
 * How long a claim or takeover waits for PostgreSQL before the person is told it cannot be given
 * now. Not an operator's choice: a login should not wait longer than this for its seat.
 */
const CLAIM_WAIT_MS = 5_000;

interface Watched {
  holder: SeatHolder | undefined;
  listeners: Set<() => void>;
  /** Bumped by this member's own claims and releases: a read begun before one is out of date. */
  generation: number;
  /** This member's own claims under way: a read may already see one, before its answer is in. */
  changing: number;
}

/**
 * The seat leases of a relay group member (session/seat-lease.ts) over the group's writer lease
 * table (writer-leases.ts). Keeps, for each device a hub watches, the holder as last read, and
 * re-reads them when told something changed (`refresh`): one device for a NOTIFY on
 * lifeline_writers (its payload names the device), an agent's refusal, or this member's own claim or
 * release once answered; all of them on a change of members and at every heartbeat, the fallback for
 * a notification missed while the listening connection was away. A hub hears of every change it did
 * not make itself. Reads do not overlap: what is asked for meanwhile is read next, in one query.
 *
 * While the database is away: a claim or takeover is refused with a line that says so; the last
 * read holder stays (a writer already seated keeps writing: the agent's fence still has its token);
 * nothing is concluded from a database that does not answer.
 */
export class GroupSeatLeases {
  private leases: { table: WriterLeases; relayId: string } | undefined;
  private readonly watched = new Map<string, Watched>();
  private refreshing = false;
  /** Asked for while a read ran (or before the join): every watched device, or these. */
  private pendingAll = false;
  private readonly pending = new Set<string>();
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger.child({ component: 'writer-leases' });
  }

  /** The member joined its group: claims can be answered from now on. */
  connect(table: WriterLeases, relayId: string): void {
    this.leases = { table, relayId };
    // Hubs whose participants were refused before the join (NOT_JOINED) claim now.
    for (const entry of this.watched.values()) for (const listener of [...entry.listeners]) listener();
    this.refresh();
  }

  /** The seat lease of one device, for its hub. */
  readonly forDevice = (deviceId: string): DeviceSeatLease => ({
    claim: (person) => this.change(deviceId, (table) => table.claim(deviceId, holderOf(person))),
    takeOver: (person) => this.change(deviceId, async (table) => ({ won: true, token: await table.takeOver(deviceId, holderOf(person)) })),
    release: (token) => this.release(deviceId, token),
    holder: () => this.watched.get(deviceId)?.holder,
    recheck: () => this.refresh(deviceId),
    watch: (listener) => {
      const entry = this.entry(deviceId);
      entry.listeners.add(listener);
      // A new hub learns who holds its device now.
      if (entry.listeners.size === 1) this.refresh(deviceId);
      return () => {
        entry.listeners.delete(listener);
        if (entry.listeners.size === 0) this.watched.delete(deviceId);
      };
    },
  });

  /** Reads the holder of `deviceId` again (when watched), or of every watched device; tells the hubs whose holder changed. */
  refresh(deviceId?: string): void {
    if (deviceId === undefined) this.pendingAll = true;
    else this.pending.add(deviceId);
    this.readPending();
  }

  private readPending(): void {
    const leases = this.leases;
    if (this.refreshing || !leases) return;
    const ids = this.pendingAll ? [...this.watched.keys()] : [...this.pending].filter((id) => this.watched.has(id));
    this.pendingAll = false;
    this.pending.clear();
    if (ids.length === 0) return;
    this.refreshing = true;
    const generations = new Map(ids.map((id) => [id, this.watched.get(id)!.generation]));
    leases.table
      .read(ids)
      .then((rows) => {
        for (const [deviceId, generation] of generations) {
          const entry = this.watched.get(deviceId);
          if (!entry) continue;
          // A claim of ours is under way: its answer is the newer (it reads again when it is in).
          if (entry.changing > 0) continue;
          // One finished while this read ran: read it again.
          if (entry.generation !== generation) {
            this.pending.add(deviceId);
            continue;
          }
          this.set(entry, this.seen(rows.get(deviceId)), true);
        }
      })
      .catch((err: unknown) => this.logger.debug({ event: 'group.writers-unread', err: (err as Error).message }, 'writer leases not read'))
      .finally(() => {
        this.refreshing = false;
        this.readPending();
      });
  }

  private change(
    deviceId: string,
    work: (table: WriterLeases) => Promise<{ won: true; token: bigint } | { won: false; holder: WriterLease | undefined }>,
  ): Promise<SeatGrant> {
    const leases = this.leases;
    if (!leases) return Promise.resolve({ granted: false, why: NOT_JOINED });
    const entry = this.entry(deviceId);
    let late = false;
    entry.changing++;
    const answer = work(leases.table).then(
      (result): SeatGrant => {
        entry.generation++;
        // Answered after the person was told it could not be: the hub hears of it as a change
        // (a lease of this member's that nobody here holds is claimed again for its earliest participant).
        if (result.won) {
          this.set(entry, { here: true, token: result.token }, late);
          return { granted: true, token: result.token };
        }
        const holder = this.seen(result.holder);
        this.set(entry, holder, late);
        return { granted: false, ...(holder && !holder.here ? { holder: { user: holder.user, relay: holder.relay } } : {}) };
      },
      (err: unknown): SeatGrant => {
        if (!isLifelineError(err)) throw err;
        this.logger.warn({ event: 'group.writer-unanswered', deviceId, err: err.message }, 'writer lease not answered');
        return { granted: false, why: DATABASE_AWAY };
      },
    );
    void answer
      .finally(() => {
        entry.changing--;
        // Reads skipped meanwhile are made up for.
        this.refresh(deviceId);
      })
      .catch(() => undefined);
    // A database that does not answer (a network cut without a reset) must not hold a login up.
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<SeatGrant>((resolve) => {
      timer = setTimeout(() => {
        late = true;
        resolve({ granted: false, why: DATABASE_AWAY });
      }, CLAIM_WAIT_MS);
    });
    return Promise.race([answer, giveUp]).finally(() => clearTimeout(timer));
  }

  private release(deviceId: string, token: bigint | undefined): void {
    const leases = this.leases;
    if (!leases || token === undefined) return;
    const entry = this.entry(deviceId);
    if (entry.holder?.token === token) this.set(entry, undefined, false);
    entry.generation++;
    entry.changing++;
    leases.table
      .release(deviceId, token)
      .catch((err: unknown) =>
        this.logger.warn({ event: 'group.writer-release-failed', deviceId, err: (err as Error).message }, 'writer lease not released'),
      )
      .finally(() => {
        entry.changing--;
        entry.generation++;
        this.refresh(deviceId);
      });
  }

  private seen(row: WriterLease | undefined): SeatHolder | undefined {
    if (!row) return undefined;
    if (row.relayId === this.leases?.relayId) return { here: true, token: row.token };
    // Written by another member: shown on people's terminals, so made printable.
    return { here: false, token: row.token, user: printable(row.user, 100), relay: printable(row.relay, 300) };
  }

  private set(entry: Watched, holder: SeatHolder | undefined, tell: boolean): void {
    const changed = entry.holder?.token !== holder?.token || entry.holder?.here !== holder?.here;
    entry.holder = holder;
    if (changed && tell) for (const listener of [...entry.listeners]) listener();
  }

  private entry(deviceId: string): Watched {
    let entry = this.watched.get(deviceId);
    if (!entry) {
      entry = { holder: undefined, listeners: new Set(), generation: 0, changing: 0 };
      this.watched.set(deviceId, entry);
    }
    return entry;
  }
}

function holderOf(person: Person): { user: string; sessionId: string } {
  return { user: person.user, sessionId: person.sessionId };
}
