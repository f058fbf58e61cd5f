import type { GroupMember, GroupNotice, Logger } from '@lifeline/shared/core';
import type { RelayAddress } from './relay-dialer.js';
import { relayName } from './relay-dialer.js';

/** What RelayLinks needs of one relay connection (relay-link.ts). */
export interface Link {
  readonly name: string;
  readonly state: string;
  start(): void;
  stop(): Promise<void>;
}

export interface RelayLinksOptions<L extends Link> {
  /** agent.yaml `relay` (host, port): where the agent starts, and what it falls back on. */
  seed: RelayAddress;
  /** Members remembered from an earlier run (group-memory.ts); dialled at start as well. */
  remembered: GroupMember[];
  /** Makes the link to one relay; `seed` is true for agent.yaml's relay (it also has the alternates). */
  openLink(address: RelayAddress, seed: boolean): L;
  /** A new member list was heard: remember it for the next start. */
  remember(members: GroupMember[]): void;
  logger: Logger;
}

/**
 * Which relays the agent keeps a tunnel to. A relay alone: agent.yaml's relay (with its
 * `alternates`), exactly as without groups. A relay group: every member the relays announce
 * (docs/protocol.md), each by its advertised address with its own tunnel and health check; new
 * members are dialled at once, members that left are dropped. agent.yaml's address (the "seed",
 * with its alternates; perhaps a load balancer or a DNS name with several addresses) is kept
 * while no member of the announced list is connected, so the agent can always find the group
 * again; once a member is connected the seed link goes, even when its address is a member's: that
 * member has a link of its own, without alternates, so the seed can never reach through an
 * alternate a relay another link already holds (their tunnels would replace each other in turn).
 */
export class RelayLinks<L extends Link> {
  private readonly links = new Map<string, L>();
  private members: GroupMember[] | undefined;
  private stopped = false;
  private reconciling = false;
  private again = false;
  /** The seed's key: never a member's (`host:port`). */
  private readonly seedKey: string;

  constructor(private readonly options: RelayLinksOptions<L>) {
    this.seedKey = `seed ${relayName(options.seed)}`;
  }

  start(): void {
    this.reconcile();
  }

  /** Every link now. */
  all(): L[] {
    return [...this.links.values()];
  }

  /** A relay announced the group's members: dial the new ones, drop those that left. */
  notice(notice: GroupNotice): void {
    // A relay that has not joined yet announces nobody; a list always names its sender.
    if (this.stopped || notice.members.length === 0) return;
    const key = (list: readonly GroupMember[] | undefined) => (list ?? []).map((m) => relayName(m)).join(',');
    if (key(notice.members) === key(this.members)) return;
    this.options.logger.info(
      { event: 'group.members', members: notice.members.map((m) => relayName(m)) },
      `relay group: ${notice.members.length} members`,
    );
    this.members = notice.members;
    this.options.remember(notice.members);
    this.reconcile();
  }

  /** A link changed state: the seed may be needed again, or no longer. */
  linkChanged(): void {
    if (!this.stopped) this.reconcile();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((link) => link.stop()));
  }

  /** Links start synchronously and report their state at once: a change meanwhile runs another round after this one. */
  private reconcile(): void {
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = true;
    try {
      do {
        this.again = false;
        this.reconcileOnce();
      } while (this.again && !this.stopped);
    } finally {
      this.reconciling = false;
    }
  }

  private reconcileOnce(): void {
    const members = this.members ?? this.options.remembered;
    const wanted = new Map<string, RelayAddress>(members.map((m) => [relayName(m), { host: m.host, port: m.port }]));
    const memberConnected = [...wanted.keys()].some((key) => this.links.get(key)?.state === 'connected');
    if (!this.members || !memberConnected) wanted.set(this.seedKey, this.options.seed);
    for (const [key, link] of this.links) {
      if (wanted.has(key)) continue;
      this.links.delete(key);
      this.options.logger.info(
        { event: 'group.link-dropped', relay: link.name, seed: key === this.seedKey },
        key === this.seedKey
          ? `configured relay ${link.name}: the group's members are reached directly`
          : `relay ${link.name} left the group`,
      );
      void link.stop();
    }
    for (const [key, address] of wanted) {
      if (this.links.has(key)) continue;
      const link = this.options.openLink(address, key === this.seedKey);
      this.links.set(key, link);
      if (key !== this.seedKey) this.options.logger.info({ event: 'group.link-added', relay: key }, `dialling relay group member ${key}`);
      link.start();
    }
  }
}
