import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingFile } from './peer-connection.js';

describe('recordingFile: what a group member may fetch', () => {
  let dir: string;
  let recordings: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-peer-'));
    recordings = join(dir, 'recordings');
    await mkdir(join(recordings, 'rtr-1', '2026-12-05'), { recursive: true });
    await writeFile(join(recordings, 'rtr-1', '2026-12-05', 'a.cast'), '{"version":2}\n');
    await writeFile(join(dir, 'secret.cast'), 'not a recording of this relay\n');
    await symlink(join(dir, 'secret.cast'), join(recordings, 'rtr-1', 'escape.cast'));
    await mkdir(join(recordings, 'folder.cast'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a recording inside recordingsDir', async () => {
    const file = join(recordings, 'rtr-1', '2026-12-05', 'a.cast');
    await expect(recordingFile(recordings, file)).resolves.toBe(file);
  });

  it('refuses anything else, saying why', async () => {
    const refused = async (path: string) =>
      await recordingFile(recordings, path).then(
        () => 'given',
        (err: Error) => err.message,
      );
    expect(await refused(join(dir, 'secret.cast'))).toMatch(/not a recording of this relay/);
    expect(await refused(join(recordings, 'rtr-1', '..', '..', 'secret.cast'))).toMatch(/not a recording of this relay/);
    expect(await refused(join(recordings, 'rtr-1', 'escape.cast'))).toMatch(/not a recording of this relay/);
    expect(await refused(join(recordings, 'folder.cast'))).toMatch(/not a recording of this relay/);
    expect(await refused('/etc/passwd')).toMatch(/not a recording path/);
    expect(await refused('rtr-1/2026-12-05/a.cast')).toMatch(/not a recording path/);
    expect(await refused(join(recordings, 'rtr-1', 'gone.cast'))).toMatch(/no such recording on this relay/);
  });

  it("makes the requested path printable in its answer (it is the peer's text)", async () => {
    await expect(recordingFile(recordings, '/tmp/\x1b[2Jx.cast')).rejects.not.toThrow(/\x1b/);
  });
});
