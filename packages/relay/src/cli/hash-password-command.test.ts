import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../ssh/password-hash.js';
import { runHashPassword, type PasswordInput } from './hash-password-command.js';

function collect(): PassThrough & { text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return Object.assign(stream, { text: () => text });
}

async function run(input: string | Buffer[], tty = false) {
  const stdin = new PassThrough() as PassThrough & PasswordInput;
  const rawModes: boolean[] = [];
  if (tty) {
    stdin.isTTY = true;
    stdin.setRawMode = (raw: boolean) => rawModes.push(raw);
  }
  const stdout = collect();
  const stderr = collect();
  const done = runHashPassword(stdin, stdout, stderr);
  for (const chunk of typeof input === 'string' ? [Buffer.from(input)] : input) stdin.write(chunk);
  if (!tty) stdin.end();
  const code = await done;
  return { code, out: stdout.text(), err: stderr.text(), rawModes };
}

describe('hash-password', () => {
  it('prints a hash of the first line, without its newline', async () => {
    const { code, out } = await run('s3cret pass\n');
    expect(code).toBe(0);
    const hash = out.trim();
    expect(out.endsWith('\n')).toBe(true);
    await expect(verifyPassword('s3cret pass', hash)).resolves.toBe(true);
    await expect(verifyPassword('s3cret pass\n', hash)).resolves.toBe(false);
  });

  it('strips a Windows line ending too, but keeps spaces', async () => {
    const { out } = await run(' pw \r\nsecond line\n');
    await expect(verifyPassword(' pw ', out.trim())).resolves.toBe(true);
  });

  it('takes a last line without newline', async () => {
    const { code, out } = await run('no-newline');
    expect(code).toBe(0);
    await expect(verifyPassword('no-newline', out.trim())).resolves.toBe(true);
  });

  it('assembles a line split across chunks', async () => {
    const { out } = await run([Buffer.from('pa'), Buffer.from('ss\nrest')]);
    await expect(verifyPassword('pass', out.trim())).resolves.toBe(true);
  });

  it('refuses an empty password with a message and exit code 1', async () => {
    const { code, out, err } = await run('\n');
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/empty password/);
  });

  it('refuses empty input with exit code 1', async () => {
    const { code, out, err } = await run('');
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/no password/);
  });

  it('on a terminal, prompts on stderr, reads in raw mode (no echo) and honours backspace', async () => {
    const { code, out, err, rawModes } = await run('pax\x7fss\rpass\r', true);
    expect(code).toBe(0);
    expect(err).toMatch(/Password/);
    expect(err).toMatch(/again/);
    expect(rawModes).toEqual([true, false, true, false]);
    await expect(verifyPassword('pass', out.trim())).resolves.toBe(true);
  });

  it('on a terminal, refuses two different passwords', async () => {
    const { code, out, err } = await run('pass\rpas\r', true);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/differ/);
  });

  it('on a terminal, gives up on Ctrl-C without printing a hash', async () => {
    const { code, out } = await run('abc\x03', true);
    expect(code).toBe(1);
    expect(out).toBe('');
  });
});
