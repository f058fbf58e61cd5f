import { constants, type Stats } from 'node:fs';
import { open, realpath } from 'node:fs/promises';

/**
 * Reads a regular file of at most `maxBytes`, never blocking on what is not one: it is opened
 * with O_NONBLOCK (a FIFO does not wait for a writer) and refused unless fstat says it is a
 * regular file outside /proc and /sys, so a path under /proc, a FIFO or a device cannot hang or flood a start. Throws
 * a plain Error (with `code` for system errors) that callers wrap with file and key. `check` sees
 * the open file's fstat before anything is read (secret-files.ts refuses loose modes there) and
 * throws to refuse it.
 */
export async function readBoundedFile(path: string, maxBytes: number, check?: (info: Stats) => void): Promise<Buffer> {
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await file.stat();
    // Files under /proc and /sys claim to be regular files of size 0 and may block or never end.
    if (!info.isFile() || /^\/(proc|sys)\//.test(await realpath(path))) throw new Error(`${path} is not a regular file`);
    check?.(info);
    if (info.size > maxBytes) throw new Error(`${path} is ${info.size} bytes, more than the ${maxBytes} allowed`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new Error(`${path} is more than the ${maxBytes} bytes allowed`);
    }
    return buffer.subarray(0, length);
  } finally {
    await file.close();
  }
}
