import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeFor, isLifelineError } from './errors.js';
import { readSecretFile, writePrivateFile, type SecretFileRules } from './secret-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeline-secret-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rules: SecretFileRules & { optional: false } = {
  what: 'password file',
  maxBytes: 1024,
  code: 'CONFIG_INVALID',
  insecureCode: 'KEY_INSECURE_MODE',
  optional: false,
};

async function refusal(path: string, r: SecretFileRules = rules): Promise<Error> {
  try {
    await readSecretFile(path, { ...r, optional: false });
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${path} was read`);
}

describe('writePrivateFile', () => {
  it('writes a new file with mode 0600 and leaves no temporary file', async () => {
    const file = join(dir, 'enrol.yaml');
    await writePrivateFile(file, 'token: abc\n');
    expect(await readFile(file, 'utf8')).toBe('token: abc\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['enrol.yaml']);
  });

  it('replaces a file others could read with a 0600 one, and never reuses a stale temporary file', async () => {
    const file = join(dir, 'agent.yaml');
    await writeFile(file, 'old\n', { mode: 0o644 });
    // A crash of an earlier process with this pid left its temporary file, readable by all.
    const stale = join(dir, `.agent.yaml.${process.pid}.tmp`);
    await writeFile(stale, 'stale\n', { mode: 0o644 });
    await chmod(stale, 0o644);
    await writePrivateFile(file, 'new\n');
    expect(await readFile(file, 'utf8')).toBe('new\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['agent.yaml']);
  });

  it('throws the system error and leaves the target and no temporary file when the rename fails', async () => {
    const target = join(dir, 'taken');
    await mkdir(join(target, 'inside'), { recursive: true });
    await expect(writePrivateFile(target, 'x')).rejects.toMatchObject({ code: expect.stringMatching(/^E/) });
    expect((await stat(target)).isDirectory()).toBe(true);
    expect(await readdir(dir)).toEqual(['taken']);
  });
});

describe('readSecretFile', () => {
  it('reads a 0600 file of its own user', async () => {
    const file = join(dir, 'pw');
    await writePrivateFile(file, 's3cret\n');
    expect((await readSecretFile(file, rules)).toString()).toBe('s3cret\n');
  });

  it('answers undefined for a missing optional file, and refuses a missing required one', async () => {
    expect(await readSecretFile(join(dir, 'nope'), { ...rules, optional: true })).toBeUndefined();
    expect(await readSecretFile(join(dir, 'file', 'below'), { ...rules, optional: true })).toBeUndefined();
    const err = await refusal(join(dir, 'nope'));
    expect(isLifelineError(err, 'CONFIG_INVALID')).toBe(true);
    expect(err.message).toBe(`password file ${join(dir, 'nope')} does not exist`);
  });

  it('refuses a file group or others may read, with the chmod to run, and exit 78', async () => {
    const file = join(dir, 'pw');
    await writeFile(file, 's3cret\n');
    await chmod(file, 0o640);
    const err = await refusal(file);
    expect(isLifelineError(err, 'KEY_INSECURE_MODE')).toBe(true);
    expect(exitCodeFor(err)).toBe(78);
    expect(err.message).toBe(`password file ${file} has mode 640; it must not be readable by group or others (chmod 600 ${file})`);
    expect(err.message).not.toContain('s3cret');
  });

  it("refuses a file another user owns (that user could change the secret), and reads root's", async () => {
    if (process.getuid?.() !== 0) throw new Error('this test gives a file to another user: run it as root (CI does)');
    const file = join(dir, 'pw');
    await writePrivateFile(file, 's3cret\n');
    await chown(file, 65534, 65534);
    const err = await refusal(file);
    expect(isLifelineError(err, 'KEY_INSECURE_MODE')).toBe(true);
    expect(err.message).toBe(
      `password file ${file} is owned by uid 65534; it must be owned by the user this program runs as (uid 0) or by root`,
    );
    await chown(file, 0, 0);
    expect((await readSecretFile(file, rules)).toString()).toBe('s3cret\n');
  });

  it('refuses a FIFO without waiting for a writer, and a file over the size limit', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const err = await refusal(fifo);
    expect(isLifelineError(err, 'CONFIG_INVALID')).toBe(true);
    expect(err.message).toBe(`cannot read password file ${fifo}: ${fifo} is not a regular file`);
    const big = join(dir, 'big');
    await writePrivateFile(big, 'x'.repeat(2048));
    expect((await refusal(big)).message).toBe(`cannot read password file ${big}: ${big} is 2048 bytes, more than the 1024 allowed`);
  });
});
