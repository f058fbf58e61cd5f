import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyProgramsForAnyone } from '../testing/program-copy.js';
import { exitCodeFor, LifelineError } from '../errors.js';
import { generateKeyPair, writeNewKey } from '../ssh-keys.js';
import { ConfigError } from './config-error.js';
import { makeFolder } from './make-folder.js';
import { StartupProblems, folderProblem } from './startup-checks.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'startup-checks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('folderProblem', () => {
  it('accepts an existing writable folder and one that can be created, creating nothing', async () => {
    expect(await folderProblem(dir)).toBeUndefined();
    expect(await folderProblem(join(dir, 'a/b/c'))).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
  });

  it('says when a file stands where a folder must be', async () => {
    await writeFile(join(dir, 'f'), '');
    expect(await folderProblem(join(dir, 'f'))).toBe(`${join(dir, 'f')} is not a folder`);
    expect(await folderProblem(join(dir, 'f/sub'))).toBe(`cannot create ${join(dir, 'f/sub')}: ENOTDIR`);
  });

  it('says which folder denies writing, as another user sees it', async () => {
    const locked = join(dir, 'locked');
    await mkdir(locked, { mode: 0o555 });
    await chmod(dir, 0o755);
    const expected = `cannot create ${join(locked, 'state')}: EACCES (permission denied on ${locked})`;
    if (process.getuid?.() !== 0) {
      expect(await folderProblem(join(locked, 'state'))).toBe(expected);
      return;
    }
    // Root may write anywhere: ask as nobody, from a copy of the code nobody can read.
    const programs = await copyProgramsForAnyone();
    try {
      const script = `import { folderProblem } from ${JSON.stringify(programs.path('packages/shared/dist/config/startup-checks.js'))};
        console.log(await folderProblem(${JSON.stringify(join(locked, 'state'))}));`;
      const out = execFileSync(
        'setpriv',
        ['--reuid', '65534', '--regid', '65534', '--clear-groups', programs.node, '--input-type=module', '-e', script],
        { cwd: '/' },
      );
      expect(out.toString().trim()).toBe(expected);
    } finally {
      await programs.remove();
    }
  }, 30_000);
});

describe('StartupProblems', () => {
  it('collects every problem into one ConfigError, exit 73 when all are folders, else 78', async () => {
    await writeFile(join(dir, 'f'), '');
    const problems = new StartupProblems('relay.yaml');
    await problems.writableFolder('stateDir', join(dir, 'f/state'));
    expect(() => problems.throwIfAny()).toThrow(ConfigError);
    let err: unknown;
    try {
      problems.throwIfAny();
    } catch (e) {
      err = e;
    }
    expect(exitCodeFor(err)).toBe(73);
    problems.add('users[0].password', 'malformed password hash');
    try {
      problems.throwIfAny();
    } catch (e) {
      err = e;
    }
    expect(exitCodeFor(err)).toBe(78);
    expect((err as Error).message).toBe(
      `relay.yaml: stateDir: cannot create ${join(dir, 'f/state')}: ENOTDIR\nrelay.yaml: users[0].password: malformed password hash`,
    );
  });

  it('reads an existing key, and for a missing one checks that its folder can be made', async () => {
    const problems = new StartupProblems('agent.yaml');
    expect(await problems.keyFile('keyFile', join(dir, 'state/key'), 'c')).toBeUndefined();
    expect(problems.problems).toEqual([]);
    const key = generateKeyPair('c');
    await writeNewKey(join(dir, 'state/key'), key);
    expect((await problems.keyFile('keyFile', join(dir, 'state/key'), 'c'))?.fingerprint).toBe(key.fingerprint);
  });
});

describe('exitCodeFor', () => {
  it('maps start-up error codes to sysexits and leaves anything else a crash', () => {
    expect(exitCodeFor(new LifelineError('USAGE', 'x'))).toBe(64);
    expect(exitCodeFor(new LifelineError('STARTUP_PORT_IN_USE', 'x'))).toBe(69);
    expect(exitCodeFor(new LifelineError('STARTUP_CANNOT_CREATE', 'x'))).toBe(73);
    expect(exitCodeFor(new LifelineError('STARTUP_PORT_PRIVILEGED', 'x'))).toBe(77);
    expect(exitCodeFor(new LifelineError('KEY_INSECURE_MODE', 'x'))).toBe(78);
    expect(exitCodeFor(new LifelineError('TUNNEL_CLOSED', 'x'))).toBeUndefined();
    expect(exitCodeFor(new Error('EADDRINUSE'))).toBeUndefined();
  });
});

describe('makeFolder', () => {
  it('makes missing levels with the mode and fails instead of looping under /proc', async () => {
    await makeFolder(join(dir, 'a/b'), 0o700);
    expect(await readdir(join(dir, 'a'))).toEqual(['b']);
    await expect(makeFolder('/proc/lifeline-test/x', 0o700)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
