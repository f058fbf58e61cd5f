import { chmod, open, readdir, rename, unlink } from 'node:fs/promises';
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

/**
 * Deletes rotated files beyond `files` (left over from a config that kept more). `rotated` is the
 * indexes of this device's rotated files from one `listRotatedLogFiles` of the whole folder; without
 * it the folder is listed here, which costs O(files in the folder) per device: a relay with many
 * devices lists once and passes each its share.
 */
export async function removeSurplusLogFiles(dir: string, deviceId: string, files: number, rotated?: readonly number[]): Promise<void> {
  const present = rotated ?? (await listRotatedLogFiles(dir)).get(deviceId) ?? [];
  for (const index of present) if (index >= files) await unlinkIfPresent(logFilePath(dir, deviceId, index));
}

/**
 * One listing of a console-log folder: each device's rotated files (`<id>.log.<n>`, n >= 1) by
 * index. A folder that does not exist yet holds none.
 */
export async function listRotatedLogFiles(dir: string): Promise<Map<string, number[]>> {
  const byDevice = new Map<string, number[]>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return byDevice;
    throw err;
  }
  for (const name of names) {
    const match = /^(.+)\.log\.(\d+)$/.exec(name);
    if (!match || Number(match[2]) === 0) continue;
    const indexes = byDevice.get(match[1]!);
    if (indexes) indexes.push(Number(match[2]));
    else byDevice.set(match[1]!, [Number(match[2])]);
  }
  return byDevice;
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

/** chmod that counts a missing file as done. */
export async function chmodIfPresent(path: string, mode: number): Promise<void> {
  try {
    await chmod(path, mode);
  } catch (err) {
    if (!isMissing(err)) throw err;
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
