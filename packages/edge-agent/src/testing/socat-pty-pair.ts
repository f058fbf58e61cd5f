import { spawn, type ChildProcess } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';

/** Two real ttys joined by socat: `a` for the port under test, `b` for the far end. */
export interface SocatPtyPair {
  readonly a: string;
  readonly b: string;
  /** Ends socat (SIGTERM): both links vanish, like an unplugged adapter's device node. */
  stop(): Promise<void>;
}

/**
 * Starts `socat pty,raw,echo=0,link=DIR/a pty,raw,echo=0,link=DIR/b` (or the `names` given, e.g.
 * `ttyUSB0` so messages read as they would on a Pi) and resolves once both links
 * exist. Rejects if socat is missing or exits first. The caller owns `dir` and removes it.
 */
export async function startSocatPtyPair(
  dir: string,
  options: { timeoutMs?: number; names?: [string, string] } = {},
): Promise<SocatPtyPair> {
  const a = join(dir, options.names?.[0] ?? 'a');
  const b = join(dir, options.names?.[1] ?? 'b');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let failure: Error | undefined;
  child.once('error', (err) => (failure = err));
  child.once(
    'exit',
    (code, signal) => (failure ??= new Error(`socat exited (${code ?? signal}) before its ptys were ready: ${stderr.trim()}`)),
  );

  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  while (!((await exists(a)) && (await exists(b)))) {
    if (failure) throw failure;
    if (Date.now() > deadline) {
      await kill(child, exited);
      throw new Error(`socat did not create ${a} and ${b} in time: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { a, b, stop: () => kill(child, exited) };
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
