import { parseArgs } from 'node:util';
import { ExitCode, isConfigError, isLifelineError } from '@lifeline/shared';
import { adminRequest } from '../admin/admin-client.js';
import type { AdminRequest } from '../admin/admin-protocol.js';
import type { CommandIo } from './recordings-command.js';
import { relayFiles } from './relay-files.js';

export interface AdminQuery<T> {
  /** Admin command, also the CLI subcommand name (`sessions`, `devices`). */
  command: string;
  usage: string;
  /** Rejects an answer of the wrong shape (a relay of another version). */
  isAnswer(value: unknown): value is T;
  /** What the relay answered wrongly, for the message, e.g. "a list of sessions". */
  what: string;
  render(answer: T, now: number): string;
  /** Takes `--user NAME`, sent to the relay as the request's `user`. */
  takesUser?: boolean;
}

/**
 * The shape every read-only admin CLI command shares: `--config relay.yaml` (its `adminSocket`)
 * or `--socket PATH`, `--json`; asks the running relay once; prints a table or the JSON.
 * Exit codes: 0 printed, 1 no usable answer from the relay, 64 bad flags, 78 bad config.
 */
export async function runAdminQuery<T>(query: AdminQuery<T>, args: string[], io: CommandIo & { now?: () => number }): Promise<number> {
  const name = query.command;
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        socket: { type: 'string' },
        json: { type: 'boolean' },
        ...(query.takesUser ? { user: { type: 'string' as const } } : {}),
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr.write(`${name}: ${(err as Error).message}\n\n${query.usage}`);
    return ExitCode.usage;
  }
  if (values.help) {
    io.stdout.write(query.usage);
    return ExitCode.ok;
  }
  if (values.config !== undefined && values.socket !== undefined) {
    io.stderr.write(`${name}: give --config or --socket, not both\n\n${query.usage}`);
    return ExitCode.usage;
  }

  const user = (values as { user?: string }).user;
  const asked = await askRelay(name, values, user === undefined ? { command: name } : { command: name, user }, io);
  if (!asked.ok) return asked.code;
  const { answer } = asked;
  if (!query.isAnswer(answer)) {
    io.stderr.write(`${name}: the relay answered with something else than ${query.what} (a different relay version?)\n`);
    return ExitCode.crash;
  }
  if (values.json) io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else io.stdout.write(query.render(answer, (io.now ?? Date.now)()));
  return ExitCode.ok;
}

/**
 * Sends one request to the relay `--config`/`--socket` name; a config problem or no answer is
 * written to stderr (`name: message`) and becomes the exit code (78, 1).
 */
export async function askRelay(
  name: string,
  values: { config?: string; socket?: string },
  request: AdminRequest,
  io: CommandIo,
  timeoutMs?: number,
): Promise<{ ok: true; answer: unknown } | { ok: false; code: number }> {
  let socketPath: string;
  try {
    socketPath = await adminSocketPath(values);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    io.stderr.write(`${name}: ${(err as Error).message}\n`);
    return { ok: false, code: ExitCode.badConfig };
  }
  try {
    return { ok: true, answer: await adminRequest(socketPath, request, timeoutMs) };
  } catch (err) {
    if (!isLifelineError(err)) throw err;
    io.stderr.write(`${name}: ${err.message}\n`);
    return { ok: false, code: ExitCode.crash };
  }
}

/** `--socket PATH`, or the `adminSocket` of `--config FILE` (without it the default). Throws config errors. */
export async function adminSocketPath(values: { config?: string; socket?: string }): Promise<string> {
  if (values.socket !== undefined) return values.socket;
  return (await relayFiles(values.config)).adminSocket;
}
