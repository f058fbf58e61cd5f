import { open, type FileHandle } from 'node:fs/promises';
import type { FileSink, Gap } from './bounded-file-writer.js';
import { logFilePath, rotateLogFiles } from './log-files.js';

/** Console-log files a relay keeps open while idle; inside the 256 descriptors open-file-limit.ts keeps back from connections. */
export const RELAY_OPEN_LOG_FILES = 128;

/**
 * Counts the console-log files a relay holds open. Past `max`, a log closes its file as soon as
 * what it had queued is written rather than after its idle time: when thousands of devices write
 * at once (the `relay started` note at a restart, a site's power coming back), the relay does not
 * hold a file per device for seconds while the agents' sockets need the descriptors.
 */
export class OpenLogFiles {
  count = 0;
  constructor(readonly max: number) {}

  /** More files are open than the relay allows. */
  get crowded(): boolean {
    return this.count > this.max;
  }
}

export interface ConsoleLogFileOptions {
  dir: string;
  deviceId: string;
  /** A file is rotated when it reaches this size. */
  maxBytes: number;
  /** Files kept, the current one included. */
  files: number;
  openFiles?: OpenLogFiles;
}

/**
 * A device's console log on disk, as the bounded writer's sink: opened for appending when there
 * is something to write (and closed by the log when idle), written byte for byte, and rotated by
 * size so that each file holds exactly `maxBytes` (the files are one byte stream cut in pieces).
 * A failed write closes the file, so the next try opens it again (the folder may have been
 * recreated meanwhile); some of that write may have reached the file, so its gap note says "up to".
 */
export class ConsoleLogFile implements FileSink {
  readonly path: string;
  private handle: FileHandle | undefined;
  private size = 0;

  constructor(private readonly options: ConsoleLogFileOptions) {
    this.path = logFilePath(options.dir, options.deviceId, 0);
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  async open(): Promise<void> {
    const handle = await open(this.path, 'a', 0o600);
    try {
      // An existing file keeps its mode on open: make sure it is still private.
      await handle.chmod(0o600);
      this.size = (await handle.stat()).size;
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
    this.handle = handle;
    if (this.options.openFiles) this.options.openFiles.count++;
  }

  async write(data: Buffer): Promise<void> {
    try {
      let written = 0;
      while (written < data.length) {
        if (this.size >= this.options.maxBytes) await this.rotate();
        // Fill each file exactly to maxBytes.
        const piece = data.subarray(written, written + (this.options.maxBytes - this.size));
        await writeAll(this.handle!, piece);
        written += piece.length;
        this.size += piece.length;
      }
    } catch (err) {
      await this.close().catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle && this.options.openFiles) this.options.openFiles.count--;
    await handle?.close();
  }

  gapLine(gap: Gap): Buffer {
    const notes: string[] = [];
    if (gap.failed > 0)
      notes.push(noteLine(gap.since, `up to ${gap.failed} bytes of console output were lost here: writing the log failed`));
    if (gap.dropped > 0)
      notes.push(noteLine(gap.since, `${gap.dropped} bytes of console output were dropped here: the log could not keep up`));
    return Buffer.from(notes.join(''));
  }

  private async rotate(): Promise<void> {
    await this.close();
    await rotateLogFiles(this.options.dir, this.options.deviceId, this.options.files);
    await this.open();
  }
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let done = 0;
  while (done < data.length) done += (await handle.write(data, done, data.length - done)).bytesWritten;
}

/** `\r\n[lifeline 2026-11-21T03:00:00Z] text\r\n`, with control characters in `text` blanked. */
export function noteLine(at: number, text: string): string {
  const stamp = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  // eslint-disable-next-line no-control-regex -- blanking control characters is the point
  return `\r\n[lifeline ${stamp}] ${text.replace(/[\x00-\x1f\x7f]/g, ' ')}\r\n`;
}
