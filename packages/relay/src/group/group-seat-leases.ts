import { isLifelineError, printable, type Logger } from '@lifeline/shared/core';
import type { DeviceSeatLease, SeatGrant, SeatHolder } from '../session/seat-lease.js';
import type { Person } from '../session/person.js';
import type { WriterLease, WriterLeases } from './writer-leases.js';

/** Said to a person who could not be given read-write because the group cannot be asked. */
const DATABASE_AWAY = "the relay group's database cannot be reached";
const NOT_JOINED = 'this relay has not joined its relay group yet';

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
 * re-reads them all when told something changed (`refresh`: a NOTIFY on lifeline_writers, a change
 * of members, every heartbeat as the fallback, an agent's refusal); a hub hears of every change it
 * did not make itself.
 *
 * While the database is away: a claim or takeover is refused with a line that says so; the last
 * read holder stays (a writer already seated keeps writing: the agent's fence still has its token);
 * nothing is concluded from a database that does not answer.
 */
export class GroupSeatLeases {
  private leases: { table: WriterLeases; relayId: string } | undefined;
  private readonly watched = new Map<string, Watched>();
  private refreshing = false;
  private again = false;
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger.child({ component: 'writer-leases' });
  }

  /** The member joined its group: claims can be answered from now on. */
  connect(table: WriterLeases, relayId: string): void {
    this.leases = { table, relayId };
    this.refresh();
  }

  /** The seat lease of one device, for its hub. */
  readonly forDevice = (deviceId: string): DeviceSeatLease => ({
    claim: (person) => this.change(deviceId, (table) => table.claim(deviceId, holderOf(person))),
    takeOver: (person) => this.change(deviceId, async (table) => ({ won: true, token: await table.takeOver(deviceId, holderOf(person)) })),
    release: (token) => this.release(deviceId, token),
    holder: () => this.watched.get(deviceId)?.holder,
    recheck: () => this.refresh(),
    watch: (listener) => {
      const entry = this.entry(deviceId);
      entry.listeners.add(listener);
      // A new hub learns who holds its device now.
      if (entry.listeners.size === 1) this.refresh();
      return () => {
        entry.listeners.delete(listener);
        if (entry.listeners.size === 0) this.watched.delete(deviceId);
      };
    },
  });

  /** Reads every watched device's holder again and tells the hubs whose holder changed. */
  refresh(): void {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    const leases = this.leases;
    if (!leases || this.watched.size === 0) return;
    this.refreshing = true;
    const generations = new Map([...this.watched].map(([id, w]) => [id, w.generation]));
    leases.table
      .read([...generations.keys()])
      .then((rows) => {
        for (const [deviceId, generation] of generations) {
          const entry = this.watched.get(deviceId);
          if (!entry) continue;
          // A claim of ours finished or is under way while this read ran: its answer is the newer.
          if (entry.generation !== generation || entry.changing > 0) {
            this.again = true;
            continue;
          }
          this.set(entry, this.seen(rows.get(deviceId)), true);
        }
      })
      .catch((err: unknown) => this.logger.debug({ event: 'group.writers-unread', err: (err as Error).message }, 'writer leases not read'))
      .finally(() => {
        this.refreshing = false;
        if (!this.again) return;
        this.again = false;
        this.refresh();
      });
  }

  private async change(
    deviceId: string,
    work: (table: WriterLeases) => Promise<{ won: true; token: bigint } | { won: false; holder: WriterLease | undefined }>,
  ): Promise<SeatGrant> {
    const leases = this.leases;
    if (!leases) return { granted: false, why: NOT_JOINED };
    const entry = this.entry(deviceId);
    let result: Awaited<ReturnType<typeof work>>;
    entry.changing++;
    try {
      result = await work(leases.table);
    } catch (err) {
      if (!isLifelineError(err)) throw err;
      this.logger.warn({ event: 'group.writer-unanswered', deviceId, err: err.message }, 'writer lease not answered');
      return { granted: false, why: DATABASE_AWAY };
    } finally {
      entry.changing--;
    }
    entry.generation++;
    if (result.won) {
      this.set(entry, { here: true, token: result.token }, false);
      return { granted: true, token: result.token };
    }
    const holder = this.seen(result.holder);
    this.set(entry, holder, false);
    return { granted: false, ...(holder && !holder.here ? { holder: { user: holder.user, relay: holder.relay } } : {}) };
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
