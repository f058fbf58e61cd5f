import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The files of one device's console log: `<id>.log` is current, `<id>.log.1` the one before,
 * up to `<id>.log.<files-1>`, the oldest.
 */
export function logFilePath(dir: string, deviceId: string, index: number): string {
  return join(dir, index === 0 ? `${deviceId}.log` : `${deviceId}.log.${index}`);
}

/** Shifts every file up one place; the oldest (index `files - 1`) is deleted. */
export async function rotateLogFiles(dir: string, deviceId: string, files: number): Promise<void> {
  await unlinkIfPresent(logFilePath(dir, deviceId, files - 1));
  for (let i = files - 2; i >= 0; i--) {
    try {
      await rename(logFilePath(dir, deviceId, i), logFilePath(dir, deviceId, i + 1));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
}

/** Deletes rotated files beyond `files` (left over from a config that kept more). */
export async function removeSurplusLogFiles(dir: string, deviceId: string, files: number): Promise<void> {
  const prefix = `${deviceId}.log.`;
  for (const name of await readdir(dir)) {
    const rest = name.slice(prefix.length);
    if (name.startsWith(prefix) && /^\d+$/.test(rest) && Number(rest) >= files) await unlinkIfPresent(join(dir, name));
  }
}

/**
 * The last `bytes` of the log: from the current file and, when that is shorter (just rotated),
 * from the end of the one before. Missing files count as empty.
 */
export async function readLogTail(dir: string, deviceId: string, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let wanted = bytes;
  for (let i = 0; i < 2 && wanted > 0; i++) {
    const tail = await readFileTail(logFilePath(dir, deviceId, i), wanted);
    parts.unshift(tail);
    wanted -= tail.length;
  }
  return Buffer.concat(parts);
}

async function readFileTail(path: string, bytes: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (isMissing(err)) return Buffer.alloc(0);
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, size - length + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, done);
  } finally {
    await handle.close();
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}
