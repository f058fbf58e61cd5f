import { describe, expect, it } from 'vitest';
import { FakeClock, capturedLogger } from '@lifeline/shared/testing';
import type { SessionRecorder } from '../recording/session-recorder.js';
import type { PartyTerminal } from './console-broker.js';
import { Party } from './party.js';
import { newPerson, type AttachmentKind } from './person.js';
import type { DeviceSeatLease, SeatGrant, SeatHolder } from './seat-lease.js';
import { WriterSeat } from './writer-seat.js';

// The seat in a relay group, with a scripted group lease: what people on this member are told
// and who may write when the group's writer is elsewhere, moves, leaves or dies.

class ScriptedLease implements DeviceSeatLease {
  now: SeatHolder | undefined;
  answer: SeatGrant = { granted: true, token: 1n };
  released: Array<bigint | undefined> = [];
  rechecks = 0;
  private listeners = new Set<() => void>();
  claim(): Promise<SeatGrant> {
    const answer = this.answer;
    if (answer.granted) this.now = { here: true, token: answer.token! };
    return Promise.resolve(answer);
  }
  takeOver(): Promise<SeatGrant> {
    return this.claim();
  }
  release(token: bigint | undefined): void {
    this.released.push(token);
  }
  holder(): SeatHolder | undefined {
    return this.now;
  }
  recheck(): void {
    this.rechecks++;
  }
  watch(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Somebody else changed the group's seat. */
  moveTo(holder: SeatHolder | undefined): void {
    this.now = holder;
    for (const l of this.listeners) l();
  }
}

class Terminal implements PartyTerminal {
  notices: string[] = [];
  write(): boolean {
    return true;
  }
  queuedBytes(): number {
    return 0;
  }
  onceDrain(): void {}
  notice(line: string): void {
    this.notices.push(line);
  }
  end(): void {}
  abort(): void {}
}

const recorder = {} as SessionRecorder;
const clock = new FakeClock();

function setup() {
  const lease = new ScriptedLease();
  const parties: Party[] = [];
  const tokens: bigint[] = [];
  const seat = new WriterSeat({
    logger: capturedLogger().logger,
    markAll: () => undefined,
    noticeAll: (line) => parties.forEach((p) => p.terminal.notice(line)),
    parties: () => parties,
    lease,
    sendToken: (token) => tokens.push(token),
  });
  const join = <K extends AttachmentKind>(user: string, attachAs: K) => {
    const party = new Party(newPerson({ user, sessionId: `s-${user}`, peer: '192.0.2.1:1', attachAs }), new Terminal(), recorder, clock);
    parties.push(party);
    return party;
  };
  const notices = (party: Party) => (party.terminal as Terminal).notices;
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { lease, seat, parties, tokens, join, notices, settle };
}

describe('WriterSeat in a relay group', () => {
  it("seats the first participant with the group's token and tells the agent; with the seat elsewhere, says who and on which relay", async () => {
    const { lease, seat, tokens, join } = setup();
    const alice = join('alice', 'participant');
    expect(await seat.seatIfFree(alice)).toBe(true);
    expect(seat.holder).toBe(alice);
    expect(tokens).toEqual([1n]);

    const other = setup();
    other.lease.answer = { granted: false, holder: { user: 'alice', relay: '10.0.0.1:22' } };
    const bob = other.join('bob', 'participant');
    expect(await other.seat.seatIfFree(bob)).toBe(false);
    expect(other.seat.readOnlyLine(bob, true)).toBe(
      'alice on relay 10.0.0.1:22 has read-write; you are read-only (escape key, then t, takes over).',
    );
    expect(other.seat.readOnlyLine(other.join('carol', 'observer'), false)).toBe(
      'watching read-only; alice on relay 10.0.0.1:22 has read-write.',
    );
    expect(lease.released).toEqual([]);
  });

  it('demotes its writer with one line when the seat is taken over on another relay', async () => {
    const { lease, seat, join, notices, settle } = setup();
    const alice = join('alice', 'participant');
    await seat.seatIfFree(alice);
    lease.moveTo({ here: false, token: 2n, user: 'bob', relay: '10.0.0.2:22' });
    await settle();
    expect(seat.holder).toBeUndefined();
    expect(notices(alice)).toEqual(['bob on relay 10.0.0.2:22 took over read-write; you are now read-only.']);
    expect(seat.writerName).toBe('bob on relay 10.0.0.2:22');
  });

  it('hands a freed seat to the earliest participant here (first claim in the group wins) and tells everyone here once', async () => {
    const { lease, seat, join, notices, settle, tokens } = setup();
    lease.answer = { granted: false, holder: { user: 'alice', relay: '10.0.0.1:22' } };
    const watcher = join('wendy', 'observer');
    const bob = join('bob', 'participant');
    const carol = join('carol', 'participant');
    await seat.seatIfFree(bob);
    lease.now = { here: false, token: 1n, user: 'alice', relay: '10.0.0.1:22' };
    // alice's relay died: its lease went with it; this member claims for bob and wins.
    lease.answer = { granted: true, token: 5n };
    lease.moveTo(undefined);
    await settle();
    expect(seat.holder).toBe(bob);
    expect(tokens).toEqual([5n]);
    const gone = 'read-write is free: alice on relay 10.0.0.1:22 left it or that relay went away';
    expect(notices(bob)).toEqual([`${gone}; you now have read-write.`]);
    expect(notices(carol)).toEqual([`${gone}; bob has it now.`]);
    expect(notices(watcher)).toEqual([`${gone}; bob has it now.`]);
  });

  it('tells everyone here who won when another member claimed the freed seat first', async () => {
    const { lease, seat, join, notices, settle } = setup();
    lease.answer = { granted: false, holder: { user: 'alice', relay: '10.0.0.1:22' } };
    const bob = join('bob', 'participant');
    await seat.seatIfFree(bob);
    lease.answer = { granted: false, holder: { user: 'dave', relay: '10.0.0.3:22' } };
    lease.moveTo(undefined);
    await settle();
    expect(seat.holder).toBeUndefined();
    expect(notices(bob)).toEqual([
      'read-write is free: alice on relay 10.0.0.1:22 left it or that relay went away; dave on relay 10.0.0.3:22 has it now.',
    ]);
  });

  it('demotes its writer when the agent refuses its token for a larger one, and asks the group again', async () => {
    const { lease, seat, join, notices } = setup();
    const alice = join('alice', 'participant');
    await seat.seatIfFree(alice);
    await seat.refused({ refused: 'input', current: 9n, holder: '10.0.0.2:22' });
    expect(seat.holder).toBeUndefined();
    expect(notices(alice)).toEqual([
      'read-write moved to another relay of the group (10.0.0.2:22); what you typed was not sent; you are now read-only.',
    ]);
    expect(lease.rechecks).toBe(1);
  });

  it('keeps people read-only with a plain reason while the group cannot answer, and refuses a takeover', async () => {
    const { lease, seat, join } = setup();
    lease.answer = { granted: false, why: "the relay group's database cannot be reached" };
    const alice = join('alice', 'participant');
    expect(await seat.seatIfFree(alice)).toBe(false);
    expect(seat.readOnlyLine(alice, true)).toBe(
      "read-write cannot be given now: the relay group's database cannot be reached; you are read-only (escape key, then t, tries again).",
    );
    await expect(seat.takeOver(alice)).rejects.toThrow("read-write cannot change hands now: the relay group's database cannot be reached.");
  });
});
