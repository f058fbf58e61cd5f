import { describe, expect, it } from 'vitest';
import { OptionNegotiator, type OptionChange, type OptionSide } from './option-negotiator.js';
import type { NegotiationVerb } from './telnet-constants.js';

interface Peer {
  negotiator: OptionNegotiator;
  sent: Array<[NegotiationVerb, number]>;
  changes: OptionChange[];
  problems: string[];
}

function peer(accept: (option: number, side: OptionSide) => boolean): Peer {
  const p: Peer = { sent: [], changes: [], problems: [], negotiator: undefined as unknown as OptionNegotiator };
  p.negotiator = new OptionNegotiator({
    send: (verb, option) => p.sent.push([verb, option]),
    accept,
    onChange: (c) => p.changes.push(c),
    onProblem: (m) => p.problems.push(m),
  });
  return p;
}

/** Delivers what each side sent to the other until both are quiet; returns the messages exchanged. */
function settle(a: Peer, b: Peer, limit = 100): number {
  let exchanged = 0;
  while (a.sent.length > 0 || b.sent.length > 0) {
    const fromA = a.sent.splice(0);
    const fromB = b.sent.splice(0);
    for (const [verb, option] of fromA) b.negotiator.receive(verb, option);
    for (const [verb, option] of fromB) a.negotiator.receive(verb, option);
    exchanged += fromA.length + fromB.length;
    if (exchanged > limit) throw new Error('negotiation loops');
  }
  return exchanged;
}

const acceptAll = () => true;

describe('OptionNegotiator (RFC 1143 Q method)', () => {
  it('enables an option both ends ask for at the same time, without a loop', () => {
    const a = peer(acceptAll);
    const b = peer(acceptAll);
    a.negotiator.request(0, 'local', true);
    a.negotiator.request(0, 'remote', true);
    b.negotiator.request(0, 'local', true);
    b.negotiator.request(0, 'remote', true);
    // Each WILL crosses a DO: four requests and no further answers.
    expect(settle(a, b)).toBe(4);
    for (const p of [a, b]) {
      expect(p.negotiator.isEnabled(0, 'local')).toBe(true);
      expect(p.negotiator.isEnabled(0, 'remote')).toBe(true);
    }
  });

  it('answers a request it accepts once and a confirmation not at all', () => {
    const a = peer(acceptAll);
    a.negotiator.receive('DO', 3);
    expect(a.sent).toEqual([['WILL', 3]]);
    a.negotiator.receive('DO', 3);
    expect(a.sent).toEqual([['WILL', 3]]);
    expect(a.changes).toEqual([{ option: 3, side: 'local', enabled: true }]);
  });

  it('refuses options it does not accept, with WONT or DONT', () => {
    const a = peer(() => false);
    a.negotiator.receive('DO', 1);
    a.negotiator.receive('WILL', 1);
    expect(a.sent).toEqual([
      ['WONT', 1],
      ['DONT', 1],
    ]);
    expect(a.negotiator.isEnabled(1, 'local')).toBe(false);
    expect(a.changes).toEqual([]);
  });

  it('reports a refusal of its own request as a change to off and stops asking', () => {
    const a = peer(acceptAll);
    const b = peer(() => false);
    a.negotiator.request(44, 'local', true);
    expect(a.negotiator.isPending(44, 'local')).toBe(true);
    expect(settle(a, b)).toBe(2);
    expect(a.negotiator.isPending(44, 'local')).toBe(false);
    expect(a.changes).toEqual([{ option: 44, side: 'local', enabled: false }]);
  });

  it('turns an enabled option off when the peer withdraws it, acknowledging once', () => {
    const a = peer(acceptAll);
    a.negotiator.receive('WILL', 0);
    a.negotiator.receive('WONT', 0);
    a.negotiator.receive('WONT', 0);
    expect(a.sent).toEqual([
      ['DO', 0],
      ['DONT', 0],
    ]);
    expect(a.negotiator.isEnabled(0, 'remote')).toBe(false);
  });

  it('queues the opposite request while one is pending and applies it after the answer', () => {
    const a = peer(acceptAll);
    const b = peer(acceptAll);
    a.negotiator.request(3, 'remote', true);
    a.negotiator.request(3, 'remote', false);
    settle(a, b);
    expect(a.negotiator.isEnabled(3, 'remote')).toBe(false);
    expect(b.negotiator.isEnabled(3, 'local')).toBe(false);
  });

  it('survives a peer that enables an option in answer to a refusal', () => {
    const a = peer(acceptAll);
    a.negotiator.receive('WILL', 0);
    a.negotiator.request(0, 'remote', false);
    a.sent.length = 0;
    a.negotiator.receive('WILL', 0);
    expect(a.problems).toHaveLength(1);
    expect(a.sent).toEqual([]);
    expect(a.negotiator.isEnabled(0, 'remote')).toBe(false);
  });
});
