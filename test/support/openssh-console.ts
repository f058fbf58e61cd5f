import { spawn } from 'node:child_process';
import { openSshFiles } from './ssh-clients.js';
import type { ConsoleClient } from './ssh2-console.js';
import { waitFor } from './wait.js';

/**
 * The real OpenSSH client with its stdin and stdout as pipes, as a file-transfer program drives
 * it (`ssh -e none -tt ... < firmware`). With `-tt` it asks the relay for a pty although it has
 * no terminal itself, so nothing on this side translates bytes: whatever changes them is the
 * relay's pty-session handling. stderr (ssh's own messages) is kept out of the console bytes.
 */
export async function openSshConsole(options: {
  dir: string;
  port: number;
  login: string;
  password: string;
  args: string[];
}): Promise<ConsoleClient & { stderr: () => string }> {
  const ssh = await openSshFiles(options.dir, options.port, options.password);
  const child = spawn('ssh', [...ssh.args, ...options.args, options.login], {
    env: { ...process.env, ...ssh.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('latin1')));
  child.stdin.on('error', () => undefined);
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const bytes = () => Buffer.concat(chunks);
  return {
    output: () => bytes().toString('latin1'),
    bytes,
    stderr: () => err,
    write: (data) => void child.stdin.write(data),
    waitForOutput: (text, timeoutMs = 10_000) =>
      waitFor(
        () => `ssh output ${String(text)} (got ${JSON.stringify(bytes().toString('latin1').slice(-300))}, stderr ${JSON.stringify(err)})`,
        () => {
          const out = bytes().toString('latin1');
          return (typeof text === 'string' ? out.includes(text) : text.test(out)) ? out : undefined;
        },
        timeoutMs,
      ),
    closed,
    // End of input, as at the end of a file; the relay ends the session on it.
    end: () => {
      child.stdin.end();
      setTimeout(() => child.kill(), 5_000).unref();
    },
  };
}
