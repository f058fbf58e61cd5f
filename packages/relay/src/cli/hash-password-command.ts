import { ExitCode } from '@lifeline/shared';
import { hashPassword } from '../ssh/password-hash.js';

/** The parts of process.stdin this command uses; a terminal gets a hidden prompt. */
export type PasswordInput = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

const CTRL_C = 0x03;
const CTRL_D = 0x04;
const BACKSPACE = new Set([0x08, 0x7f]);

/**
 * `lifeline-relay hash-password`: reads one line (the password) from stdin and prints its scrypt
 * hash for `relay.yaml`. The trailing newline (and a CR before it) is stripped, nothing else, so
 * spaces count. On a terminal it prompts on `stderr`, does not echo, and asks twice: a typo
 * nobody saw would lock the person out, so a mismatch is refused. From a pipe it takes one line
 * (scripts). Returns the exit code: 0 printed, 1 refused (empty password, mismatch, input ended).
 */
export async function runHashPassword(
  stdin: PasswordInput,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream = stdout,
): Promise<number> {
  const password = await readNewPassword(stdin, stderr, 'hash-password');
  if (password === undefined) return ExitCode.crash;
  stdout.write(`${await hashPassword(password)}\n`);
  return ExitCode.ok;
}

/**
 * A new password, as hash-password and `user add|passwd` read it: hidden and asked twice on a
 * terminal, one line from a pipe. Undefined (the reason written to `stderr` after `command: `)
 * when the input ended, was cancelled, the two differ or it is empty.
 */
export async function readNewPassword(stdin: PasswordInput, stderr: NodeJS.WritableStream, command: string): Promise<string | undefined> {
  let line: string | undefined;
  if (stdin.isTTY && stdin.setRawMode) {
    stderr.write('Password (not shown): ');
    line = await readHiddenLine(stdin);
    stderr.write('\n');
    if (line !== undefined && line !== '') {
      stderr.write('Same password again: ');
      const again = await readHiddenLine(stdin);
      stderr.write('\n');
      if (again === undefined) line = undefined;
      else if (again !== line) {
        stderr.write(`${command}: the two passwords differ; nothing changed\n`);
        return undefined;
      }
    }
  } else {
    line = await readLine(stdin);
  }
  if (line === undefined) {
    stderr.write(`${command}: no password read (input ended or was cancelled)\n`);
    return undefined;
  }
  if (line === '') {
    stderr.write(`${command}: refusing an empty password\n`);
    return undefined;
  }
  return line;
}

/** First line of a pipe, without its line ending; undefined when the input is empty. */
function readLine(stdin: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const finish = (text: string | undefined) => {
      stdin.off('data', onData).off('end', onEnd).off('error', onError);
      stdin.pause();
      resolve(text === undefined ? undefined : text.replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string) => {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      const all = Buffer.concat(chunks);
      const nl = all.indexOf(0x0a);
      if (nl !== -1) finish(all.subarray(0, nl).toString('utf8'));
    };
    const onEnd = () => finish(chunks.length === 0 ? undefined : Buffer.concat(chunks).toString('utf8'));
    const onError = (err: Error) => {
      stdin.off('data', onData).off('end', onEnd);
      reject(err);
    };
    stdin.on('data', onData).on('end', onEnd).on('error', onError);
    stdin.resume();
  });
}

/**
 * A line typed on a terminal in raw mode, so it is not echoed; undefined on Ctrl-C or Ctrl-D.
 * Bytes after the line's end (typed ahead, or pasted) go back to `stdin` for the next read.
 */
function readHiddenLine(stdin: PasswordInput): Promise<string | undefined> {
  return new Promise((resolve) => {
    const bytes: number[] = [];
    stdin.setRawMode!(true);
    const finish = (text: string | undefined, rest?: Buffer) => {
      stdin.off('data', onData);
      stdin.setRawMode!(false);
      stdin.pause();
      if (rest?.length) stdin.unshift(rest);
      resolve(text);
    };
    const onData = (data: Buffer | string) => {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i]!;
        if (byte === 0x0d || byte === 0x0a) return finish(Buffer.from(bytes).toString('utf8'), chunk.subarray(i + 1));
        if (byte === CTRL_C || (byte === CTRL_D && bytes.length === 0)) return finish(undefined);
        if (BACKSPACE.has(byte)) {
          // Drop one whole UTF-8 character: continuation bytes are 10xxxxxx.
          while (bytes.length > 0 && ((bytes.pop() ?? 0) & 0xc0) === 0x80);
        } else {
          bytes.push(byte);
        }
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
