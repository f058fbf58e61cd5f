import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ALICE_PASSWORD, type TestRelay } from './relay-test-harness.js';

/**
 * Arguments for OpenSSH's `ssh` against the test relay: no user config, no agent, the relay's
 * host key pinned in a known_hosts file, one attempt per method, bounded connect time.
 */
export function opensshArgs(relay: TestRelay, login: string, extra: string[] = []): string[] {
  return [
    '-F',
    '/dev/null',
    '-p',
    String(relay.port),
    '-l',
    login,
    '-o',
    `UserKnownHostsFile=${relay.knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'NumberOfPasswordPrompts=1',
    ...extra,
    relay.host,
  ];
}

/** Options to log in with alice's password through an askpass script (no terminal prompt needed). */
export async function passwordLogin(relay: TestRelay, password = ALICE_PASSWORD): Promise<{ args: string[]; env: NodeJS.ProcessEnv }> {
  const script = join(relay.dir, `askpass-${Math.random().toString(36).slice(2)}.sh`);
  await writeFile(script, `#!/bin/sh\nprintf '%s\\n' '${password.replace(/'/g, `'\\''`)}'\n`);
  await chmod(script, 0o700);
  return {
    args: ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=keyboard-interactive,password'],
    env: { SSH_ASKPASS: script, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
  };
}

/** Options to log in with a key file. */
export function keyLogin(keyFile: string): string[] {
  return [
    '-i',
    keyFile,
    '-o',
    'PreferredAuthentications=publickey',
    '-o',
    'PasswordAuthentication=no',
    '-o',
    'KbdInteractiveAuthentication=no',
  ];
}
