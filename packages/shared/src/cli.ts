import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ExitCode, LifelineError, exitCodeFor } from './errors.js';
import { operatorMessage } from './cli-message.js';
import type { Logger } from './log/logger.js';

export { operatorMessage };

/** Writes text and returns the exit code, so a CLI branch can `return print(...)`. */
export function print(text: string, code: number, stream: NodeJS.WriteStream = process.stdout): number {
  stream.write(text);
  return code;
}

/** A bad command line: `problem; see NAME --help`, exit 64 (EX_USAGE). */
export function usageError(name: string, problem: string): LifelineError {
  return new LifelineError('USAGE', `${problem}; see ${name} --help`);
}

/** `parseArgs` with positionals, whose complaints become one usageError line instead of a stack trace. */
type CommandLineOptions = NonNullable<ParseArgsConfig['options']>;
type CommandLine<O extends CommandLineOptions> = { args: string[]; allowPositionals: true; options: O };

export function parseCommandLine<const O extends CommandLineOptions>(
  name: string,
  argv: string[],
  options: O,
): ReturnType<typeof parseArgs<CommandLine<O>>> {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options });
  } catch (err) {
    // Node's text goes on about positionals after '--'; its first sentence says it.
    throw usageError(name, (err as Error).message.split(/\.( |$)/)[0]!);
  }
}

/** Resolves with the name of the first SIGINT or SIGTERM: the cue to drain and stop. */
export function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/**
 * SIGHUP (systemd's `ExecReload`) is logged and otherwise ignored: live reload comes later, and
 * Node's default for SIGHUP would end the process.
 */
export function ignoreHangup(logger: Logger): void {
  process.on('SIGHUP', () => logger.warn({ event: 'signal.hup' }, 'reload is not supported yet; ignoring SIGHUP'));
}

/**
 * Runs a CLI's main and exits with its code. Only binaries' main.ts call this: library code
 * throws. An error the operator can fix (bad command line, config, key, busy or privileged port,
 * a folder it cannot create) is printed as its message, one line per problem, and exits with its
 * own code (exitCodeFor), which systemd units do not restart in a loop; anything else is a crash
 * with its stack trace.
 */
export function runCli(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const code = exitCodeFor(err);
      if (code !== undefined) {
        process.stderr.write(`${operatorMessage(name, (err as Error).message)}\n`);
        process.exit(code);
      }
      process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(ExitCode.crash);
    },
  );
}
