import type { Duplex } from 'node:stream';
import { encodeGroupNotice, type GroupNotice, type Logger } from '@lifeline/shared/core';

export interface GroupAnnouncerOptions {
  /** The notice as of now: this relay's id and the live members. */
  notice(): GroupNotice;
  logger: Logger;
}

/**
 * Tells agents the relay group's members (docs/protocol.md, GROUP_ORIGIN). An agent asks by
 * opening a stream after its tunnels are up; the relay keeps it, writes the list at once and again
 * on every membership change (`announce`), until the agent or its connection closes it. The agent
 * asks, not the relay: a relay never opens a stream an older agent would take for a console.
 * Never throws: an agent that cannot be told keeps the list it had.
 */
export class GroupAnnouncer {
  private readonly streams = new Set<Duplex>();

  constructor(private readonly options: GroupAnnouncerOptions) {}

  /** An agent asked for the member list on `stream`. */
  subscribe(stream: Duplex): void {
    stream.on('error', () => undefined);
    this.streams.add(stream);
    stream.once('close', () => this.streams.delete(stream));
    // The agent writes nothing on it; reading keeps the channel's end from holding anything.
    stream.resume();
    stream.write(encodeGroupNotice(this.options.notice()));
  }

  /** The members changed: every agent listening hears the new list. */
  announce(): void {
    const line = encodeGroupNotice(this.options.notice());
    for (const stream of this.streams) stream.write(line);
    this.options.logger.debug({ event: 'group.announced', agents: this.streams.size }, 'told the agents the relay group members');
  }

  /** How many agent connections are listening. */
  get listeners(): number {
    return this.streams.size;
  }

  close(): void {
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
  }
}
