import { execFile } from 'node:child_process';
import { relayBin } from './lifeline-process.js';

export interface CliResult {
  /** The exit code (null when it was killed). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `lifeline-relay ARGS` as an operator would, in its own process, with `input` on its stdin
 * (a password for `user add`). Resolves with the exit code and output; a non-zero exit is a
 * result, not an error. Bounded: killed after `timeoutMs`.
 */
export function relayCli(args: string[], input = '', timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [relayBin, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}
