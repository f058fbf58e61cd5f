import { decodeGroupNotice, encodeGroupNotice, type GroupMember, type Logger } from '@lifeline/shared/core';
import { StateFile } from '../state-file.js';

/**
 * The relay group's members as the agent last heard them, in a file of its state folder (mode
 * 0600, agent.yaml `groupFile`), so that after a reboot it can reach the group even when the
 * configured relay address is down. Stored as the notice line itself (docs/protocol.md), so one
 * parser checks both. A missing or unreadable file is an empty memory, never an error.
 */
export class GroupMemory {
  private readonly file: StateFile;

  constructor(
    path: string,
    private readonly logger: Logger,
  ) {
    this.file = new StateFile(path, logger, { event: 'group.memory-write-failed', message: 'cannot remember the relay group' });
  }

  async load(): Promise<GroupMember[]> {
    const text = await this.file.read();
    if (text === undefined) return [];
    const decoded = decodeGroupNotice(text.trimEnd());
    if (decoded.kind === 'notice') return decoded.notice.members;
    this.logger.warn({ event: 'group.memory-unreadable', file: this.file.path }, 'ignoring the remembered relay group: not a group notice');
    return [];
  }

  /** Writes the members (whole file replaced atomically); failures are logged, not thrown. */
  async save(members: readonly GroupMember[]): Promise<void> {
    await this.file.write(encodeGroupNotice({ self: '', members: [...members] }).toString('utf8'));
  }
}
