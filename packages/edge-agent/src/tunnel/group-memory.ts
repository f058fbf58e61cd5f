import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decodeGroupNotice, encodeGroupNotice, makeFolder, writePrivateFile, type GroupMember, type Logger } from '@lifeline/shared/core';

/**
 * The relay group's members as the agent last heard them, in a file of its state folder (mode
 * 0600, agent.yaml `groupFile`), so that after a reboot it can reach the group even when the
 * configured relay address is down. Stored as the notice line itself (docs/protocol.md), so one
 * parser checks both. A missing or unreadable file is an empty memory, never an error.
 */
export class GroupMemory {
  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  async load(): Promise<GroupMember[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return [];
    }
    const decoded = decodeGroupNotice(text.trimEnd());
    if (decoded.kind === 'notice') return decoded.notice.members;
    this.logger.warn({ event: 'group.memory-unreadable', file: this.file }, 'ignoring the remembered relay group: not a group notice');
    return [];
  }

  /** Writes the members (whole file replaced atomically); failures are logged, not thrown. */
  async save(members: readonly GroupMember[]): Promise<void> {
    try {
      await makeFolder(dirname(this.file), 0o700);
      await writePrivateFile(this.file, encodeGroupNotice({ self: '', members: [...members] }).toString('utf8'));
    } catch (err) {
      this.logger.warn(
        { event: 'group.memory-write-failed', file: this.file, err: (err as Error).message },
        'cannot remember the relay group',
      );
    }
  }
}
