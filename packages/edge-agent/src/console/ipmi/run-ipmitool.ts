import { spawn } from 'node:child_process';
import { systemClock, type Clock } from '@lifeline/shared/core';
import type { IpmitoolCommand } from './ipmitool-command.js';

/** How a short ipmitool command ended. */
export interface IpmitoolResult {
  /** Exit code; null when killed (timeout) or never started. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Killed after `timeoutMs`. */
  timedOut: boolean;
  /** The program could not be started (e.g. ENOENT: not installed). */
  spawnError?: NodeJS.ErrnoException;
}

const maxOutputChars = 64 * 1024;

/**
 * Runs one ipmitool command to its end, bounded in time: in a process group of its own, killed
 * with the whole group after `timeoutMs`. stdin is /dev/null, so ipmitool can never stop to
 * prompt for a password. Aborting `signal` kills it too. Never rejects: the result says what happened.
 */
export function runIpmitool(
  command: IpmitoolCommand,
  options: { timeoutMs: number; clock?: Clock; signal?: AbortSignal },
): Promise<IpmitoolResult> {
  const clock = options.clock ?? systemClock;
  return new Promise((resolve) => {
    const child = spawn(command.file, command.args, { env: command.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout = (stdout + d).slice(-maxOutputChars)));
    child.stderr.setEncoding('latin1').on('data', (d: string) => (stderr = (stderr + d).slice(-maxOutputChars)));
    const timer = clock.setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, options.timeoutMs);
    const abort = () => killGroup(child.pid, 'SIGKILL');
    options.signal?.addEventListener('abort', abort, { once: true });
    const done = (result: IpmitoolResult) => {
      timer.cancel();
      options.signal?.removeEventListener('abort', abort);
      resolve(result);
    };
    if (options.signal?.aborted) abort();
    child.once('error', (err: NodeJS.ErrnoException) => done({ code: null, stdout, stderr, timedOut, spawnError: err }));
    child.once('close', (code) => done({ code, stdout, stderr, timedOut }));
  });
}

/** Signals a whole process group (the child was started detached, as its leader); harmless when gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
