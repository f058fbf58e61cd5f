import { link, mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

const DIR_MODE = 0o700;

/** A new file that already holds its first line, open for appending after it. */
export interface CreatedFile {
  file: FileHandle;
  /** Bytes in the file (the first line's length): where the next write goes. */
  position: number;
}

/**
 * Creates `path` (and its folder) holding `firstLine`, such that the file either exists with its
 * whole first line or does not exist at all, even when the disk is full or the relay is killed
 * part-way: the line is written to a hidden temporary name in the same folder, which is then
 * hard-linked to `path` (link fails with EEXIST rather than overwrite an existing recording).
 * A leftover temporary file (`.<name>.<random>.tmp`, from a kill at the wrong moment) is not a
 * recording and is ignored by listing and replay. Rejects with the file system's error. The caller
 * runs it through the relay's DiskGate (bounded-file-writer.ts does).
 */
export async function createWithFirstLine(path: string, mode: number, firstLine: Buffer): Promise<CreatedFile> {
  await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', mode);
  try {
    let done = 0;
    while (done < firstLine.length) done += (await file.write(firstLine, done, firstLine.length - done, done)).bytesWritten;
    await link(temp, path);
  } catch (err) {
    await file.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
  await unlink(temp).catch(() => {});
  return { file, position: firstLine.length };
}

/** What to tell a person about a file system error, in words (no raw text from elsewhere). */
export function diskProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
      return 'the recordings disk is full';
    case 'EDQUOT':
      return 'the recordings disk quota is used up';
    case 'EROFS':
      return 'the recordings folder is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'the relay may not write to the recordings folder';
    case 'EFBIG':
      return 'the recording reached the file size limit';
    case 'EMFILE':
    case 'ENFILE':
      return 'the relay has too many files open';
    case 'EIO':
      return 'the recordings disk reports I/O errors';
    case 'ENOTDIR':
    case 'ENOENT':
      return 'the recordings folder is missing or not a folder';
    default:
      return `the relay cannot write the recording (${typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : 'unknown error'})`;
  }
}
