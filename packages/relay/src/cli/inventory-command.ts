import { ExitCode, printable } from '@lifeline/shared';
import type { AdminRequest } from '../admin/admin-protocol.js';
import { askRelay } from './admin-query.js';
import { osCaller } from './os-caller.js';
import type { CommandIo } from './recordings-command.js';

/** Flags every `user` and `device` action takes. */
export const socketOptions = {
  config: { type: 'string', short: 'c' },
  socket: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Sends one `user`/`device` request to the running relay (the CLI never opens the database
 * itself) and prints its answer: `render` for a list, else the relay's one-line message.
 * Exit codes: 0 done, 1 refused or no relay, 78 bad config.
 */
export async function sendInventoryRequest(
  name: string,
  values: { config?: string; socket?: string; json?: boolean },
  request: AdminRequest,
  io: CommandIo,
  render?: (answer: unknown) => string,
): Promise<number> {
  const asked = await askRelay(name, values, { ...request, by: osCaller() }, io);
  if (!asked.ok) return asked.code;
  const { answer } = asked;
  if (values.json) io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else if (render) io.stdout.write(render(answer));
  else io.stdout.write(`${printable(String(answer))}\n`);
  return ExitCode.ok;
}
