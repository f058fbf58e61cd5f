import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeFolder, writePrivateFile, type Logger } from '@lifeline/shared/core';

/**
 * A small file in the agent's state folder that it rewrites whole (mode 0600, replaced atomically):
 * what the agent remembers across a restart. Reading never fails (a missing or unreadable file
 * reads as nothing); writes go one at a time, the latest text wins, and a failed one is logged as
 * `writeFailed` and never thrown: remembering is a help, not a condition for running.
 */
export class StateFile {
  private writing: Promise<void> = Promise.resolve();
  private next: string | undefined;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
    private readonly writeFailed: { event: string; message: string },
  ) {}

  /** The file's text, or undefined when there is none to read. */
  async read(): Promise<string | undefined> {
    return readFile(this.path, 'utf8').catch(() => undefined);
  }

  /** Replaces the file with `text`; resolves once that (or a later text) is on disk or has failed. */
  write(text: string): Promise<void> {
    this.next = text;
    this.writing = this.writing.then(() => this.writeNext());
    return this.writing;
  }

  private async writeNext(): Promise<void> {
    const text = this.next;
    if (text === undefined) return;
    this.next = undefined;
    try {
      await makeFolder(dirname(this.path), 0o700);
      await writePrivateFile(this.path, text);
    } catch (err) {
      this.logger.warn({ event: this.writeFailed.event, file: this.path, err: (err as Error).message }, this.writeFailed.message);
    }
  }
}
