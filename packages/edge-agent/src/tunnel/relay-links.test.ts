import { describe, expect, it } from 'vitest';
import { capturedLogger } from '@lifeline/shared/testing';
import type { GroupMember } from '@lifeline/shared';
import { RelayLinks, type Link } from './relay-links.js';

class FakeLink implements Link {
  state = 'initial';
  stopped = false;
  constructor(
    readonly name: string,
    readonly seed: boolean,
  ) {}
  start(): void {
    this.state = 'connecting';
  }
  stop(): Promise<void> {
    this.stopped = true;
    this.state = 'closed';
    return Promise.resolve();
  }
}

function links(remembered: GroupMember[] = []) {
  const made: FakeLink[] = [];
  const remembers: GroupMember[][] = [];
  const set = new RelayLinks<FakeLink>({
    seed: { host: 'relay.example', port: 443 },
    remembered,
    openLink: (address, seed) => {
      const link = new FakeLink(`${address.host}:${address.port}`, seed);
      made.push(link);
      return link;
    },
    remember: (members) => remembers.push(members),
    logger: capturedLogger().logger,
  });
  const names = () =>
    set
      .all()
      .map((l) => l.name)
      .sort();
  return { set, made, remembers, names };
}

const member = (id: string, host: string, port = 443): GroupMember => ({ id, host, port });

describe('RelayLinks', () => {
  it('dials only the configured relay (with its alternates) while no relay announced a group', () => {
    const { set, made, names } = links();
    set.start();
    expect(names()).toEqual(['relay.example:443']);
    expect(made[0]!.seed).toBe(true);
  });

  it('dials every announced member, keeps the configured address until a member is connected, then drops it', () => {
    const { set, made, names, remembers } = links();
    set.start();
    set.notice({ self: 'a', members: [member('a', 'r1'), member('b', 'r2')] });
    expect(names()).toEqual(['r1:443', 'r2:443', 'relay.example:443']);
    expect(remembers).toEqual([[member('a', 'r1'), member('b', 'r2')]]);
    const r1 = made.find((l) => l.name === 'r1:443')!;
    r1.state = 'connected';
    set.linkChanged();
    expect(names()).toEqual(['r1:443', 'r2:443']);
    expect(made[0]!.stopped).toBe(true);
  });

  it('gives a member at the configured address a link of its own (no alternates), and drops members that left', () => {
    const { set, made, names } = links();
    set.start();
    set.notice({ self: 'a', members: [member('a', 'relay.example'), member('b', 'r2'), member('c', 'r3')] });
    expect(names()).toEqual(['r2:443', 'r3:443', 'relay.example:443', 'relay.example:443']);
    const memberLink = made.find((l) => l.name === 'relay.example:443' && !l.seed)!;
    memberLink.state = 'connected';
    set.linkChanged();
    expect(names()).toEqual(['r2:443', 'r3:443', 'relay.example:443']);
    expect(made[0]!.stopped).toBe(true);
    expect(set.all().every((l) => !l.seed)).toBe(true);
    set.notice({ self: 'a', members: [member('a', 'relay.example'), member('b', 'r2')] });
    expect(names()).toEqual(['r2:443', 'relay.example:443']);
    expect(made.find((l) => l.name === 'r3:443')!.stopped).toBe(true);
  });

  it('dials the remembered members and the configured relay at start, and ignores an empty list', () => {
    const { set, names } = links([member('a', 'r1'), member('b', 'r2')]);
    set.start();
    expect(names()).toEqual(['r1:443', 'r2:443', 'relay.example:443']);
    set.notice({ self: '', members: [] });
    expect(names()).toEqual(['r1:443', 'r2:443', 'relay.example:443']);
  });

  it('dials the configured address again when no member is connected any more', () => {
    const { set, made, names } = links();
    set.start();
    set.notice({ self: 'a', members: [member('a', 'r1')] });
    const r1 = made.find((l) => l.name === 'r1:443')!;
    r1.state = 'connected';
    set.linkChanged();
    expect(names()).toEqual(['r1:443']);
    r1.state = 'backoff';
    set.linkChanged();
    expect(names()).toEqual(['r1:443', 'relay.example:443']);
  });
});
