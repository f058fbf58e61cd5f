import { parseArgs } from 'node:util';
import { ExitCode, printable } from '@lifeline/shared';
import type { UserListing } from '../inventory/inventory-admin.js';
import { hashPassword } from '../ssh/password-hash.js';
import { readNewPassword, type PasswordInput } from './hash-password-command.js';
import { sendInventoryRequest, socketOptions } from './inventory-command.js';
import type { CommandIo } from './recordings-command.js';
import { DEFAULT_ADMIN_SOCKET } from './relay-files.js';
import { renderTable } from './text-table.js';

const usage = `Usage: lifeline-relay user ACTION [--config relay.yaml | --socket PATH] [--json]
  user add NAME [--role engineer|supervisor|admin] [--device ID]... [--key "ssh-ed25519 ..."]... [--no-password]
  user passwd NAME
  user set-role NAME engineer|supervisor|admin
  user remove NAME
  user list
People added here live in the relay's inventory store (not in relay.yaml) and can log in at once,
without a restart. The password is read from the terminal (not shown, asked twice) or one line
from stdin, never from the command line; only its scrypt hash reaches the relay. People declared
in relay.yaml are refused: edit relay.yaml for them. Talks to the running relay on its admin
socket: adminSocket from --config (without it ${DEFAULT_ADMIN_SOCKET}), or --socket.
`;

/** `lifeline-relay user ...`. Exit codes: 0 done, 1 refused or no relay, 64 bad usage, 78 bad config. */
export async function runUser(args: string[], io: CommandIo & { stdin: PasswordInput }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...socketOptions,
        role: { type: 'string' },
        device: { type: 'string', multiple: true },
        key: { type: 'string', multiple: true },
        'no-password': { type: 'boolean' },
      },
    });
  } catch (err) {
    io.stderr.write(`user: ${(err as Error).message}\n\n${usage}`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(usage);
    return ExitCode.ok;
  }
  const [action, name, extra] = positionals;
  const bad = (problem: string) => {
    io.stderr.write(`user: ${problem}\n\n${usage}`);
    return ExitCode.usage;
  };
  const expected = action === 'list' ? 1 : action === 'set-role' ? 3 : 2;
  if (action === undefined || !['add', 'passwd', 'set-role', 'remove', 'list'].includes(action)) return bad('give an action');
  if (positionals.length !== expected)
    return bad(`user ${action} takes ${expected === 1 ? 'no name' : expected === 2 ? 'a name' : 'a name and a role'}`);
  const send = (request: Record<string, unknown>, render?: (answer: unknown) => string) =>
    sendInventoryRequest('user', values, { command: 'user', action, ...request }, io, render);

  switch (action) {
    case 'list':
      return send({}, (answer) => formatUsers(answer as UserListing[]));
    case 'remove':
      return send({ name });
    case 'set-role':
      return send({ name, role: extra });
    case 'passwd': {
      const password = await readNewPassword(io.stdin, io.stderr, 'user passwd');
      if (password === undefined) return ExitCode.crash;
      return send({ name, passwordHash: await hashPassword(password) });
    }
    default: {
      const keys = values.key ?? [];
      let passwordHash: string | undefined;
      if (values['no-password']) {
        if (keys.length === 0) return bad('--no-password needs at least one --key');
      } else {
        const password = await readNewPassword(io.stdin, io.stderr, 'user add');
        if (password === undefined) return ExitCode.crash;
        passwordHash = await hashPassword(password);
      }
      return send({
        user: {
          name,
          ...(passwordHash !== undefined ? { password: passwordHash } : {}),
          authorizedKeys: keys,
          devices: values.device ?? [],
          ...(values.role !== undefined ? { role: values.role } : {}),
        },
      });
    }
  }
}

export function formatUsers(users: readonly UserListing[]): string {
  if (users.length === 0) return 'no users\n';
  return renderTable([
    ['USER', 'ROLE', 'DEVICES', 'PASSWORD', 'KEYS', 'FROM'],
    ...users.map((u) => [
      printable(u.name),
      u.role,
      printable(u.devices.join(',')) || '-',
      u.password ? 'yes' : 'no',
      String(u.keys),
      u.source,
    ]),
  ]);
}
