import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `mkdir -p` with `mode` for every folder it creates (existing ones keep theirs). Not Node's
 * `mkdir({ recursive: true })`: under /proc that loops for ever (mkdir answers ENOENT for a parent
 * that exists), which would hang a start; here each level is made once and an error is thrown.
 */
export async function makeFolder(dir: string, mode: number): Promise<void> {
  try {
    await mkdir(dir, { mode });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
    await makeFolder(dirname(dir), mode);
    try {
      await mkdir(dir, { mode });
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}
