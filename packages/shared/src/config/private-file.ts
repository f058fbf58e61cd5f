import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `target` with `text` so that a crash or power loss leaves either the old file or the
 * new one, never half of it: written to a temporary file (mode 0600) in the same folder, synced,
 * then renamed over it. The folder must exist.
 */
export async function writePrivateFileAtomically(target: string, text: string): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target).catch(async (err: unknown) => {
    await unlink(temp).catch(() => undefined);
    throw err;
  });
}
