import type { Person } from './person.js';

/** The person with read-write on a device as the relay group has it, when that is another relay. */
export interface WriterElsewhere {
  user: string;
  /** The member's advertised `host:port`. */
  relay: string;
}

/** Who holds a device's seat for the whole group now (the last read), seen from this relay. */
export type SeatHolder = { here: true; token: bigint } | ({ here: false; token: bigint } & WriterElsewhere);

/** The answer to a claim or a takeover. */
export type SeatGrant =
  /** Read-write is this person's; `token` fences it at the agent (none for a relay alone). */
  | { granted: true; token: bigint | undefined }
  /** Somebody else has it (`holder`), or the group cannot decide now (`why`: a line for the person). */
  | { granted: false; holder?: WriterElsewhere; why?: string };

/**
 * Whether this relay may give a device's read-write to a person: the WriterSeat asks it before
 * it seats anyone. A relay alone always may (`localSeatLease`: no database, no token, exactly the
 * one-relay rules); in a relay group the seat is one for the whole group, leased in PostgreSQL
 * with a fencing token (group/group-seat-leases.ts). What people may do is still decided by
 * console-rules.ts; this only says who has the seat.
 *
 * None of the methods throws: a group that cannot be asked answers `granted: false` with `why`.
 * A lease that can answer at once (a relay alone) answers synchronously, so a relay alone hands
 * the seat on in the same turn as before.
 */
export interface DeviceSeatLease {
  /** Read-write for `person` if nobody in the group has it. */
  claim(person: Person): SeatGrant | Promise<SeatGrant>;
  /** Read-write for `person`, from whoever has it (the rules allowed the takeover). */
  takeOver(person: Person): SeatGrant | Promise<SeatGrant>;
  /** This relay's writer left: free the seat if `token` still holds it (in the background). */
  release(token: bigint | undefined): void;
  /** The seat's holder as last read; undefined when free (or, for a relay alone, always). */
  holder(): SeatHolder | undefined;
  /** Read the group's seat again soon (the agent refused this relay's token). */
  recheck(): void;
  /** Called whenever `holder()` may have changed by somebody else's doing. Returns the unsubscribe function. */
  watch(listener: () => void): () => void;
}

/** Gives each device's hub its seat lease. */
export type SeatLeases = (deviceId: string) => DeviceSeatLease;

const GRANTED: SeatGrant = { granted: true, token: undefined };

/** A relay alone: the seat is always this relay's to give, with no token (the agent then takes its input as before). */
export const localSeatLease: DeviceSeatLease = {
  claim: () => GRANTED,
  takeOver: () => GRANTED,
  release: () => undefined,
  holder: () => undefined,
  recheck: () => undefined,
  watch: () => () => undefined,
};
