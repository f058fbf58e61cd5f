import { ExitCode, isConfigError, isLifelineError } from './errors.js';

/** Writes text and returns the exit code, so a CLI branch can `return print(...)`. */
export function print(text: string, code: number, stream: NodeJS.WriteStream = process.stdout): number {
  stream.write(text);
  return code;
}

/** Resolves with the name of the first SIGINT or SIGTERM: the cue to drain and stop. */
export function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/**
 * Runs a CLI's main and exits with its code. Only binaries' main.ts call this: library code
 * throws. A bad config or an unusable key file is the operator's to fix, so it exits 78
 * (systemd: RestartPreventExitStatus=78) instead of restarting in a loop; anything else is a crash.
 */
export function runCli(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (isConfigError(err) || isLifelineError(err, 'KEY_INSECURE_MODE') || isLifelineError(err, 'KEY_UNREADABLE')) {
        process.stderr.write(`${name}: ${(err as Error).message}\n`);
        process.exit(ExitCode.badConfig);
      }
      process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(ExitCode.crash);
    },
  );
}
