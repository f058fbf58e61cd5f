import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh private folder per test; `remove()` in afterEach. */
export async function makeTempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `lifeline-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
