import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateKey } from '@lifeline/shared';
import { requireProgram } from './programs.js';

/**
 * Files the OpenSSH client needs to log in to a test relay without prompts: a known_hosts entry
 * pinning the relay's host key, and an askpass script that answers the password prompt.
 */
export async function openSshFiles(dir: string, port: number, password: string): Promise<{ args: string[]; env: Record<string, string> }> {
  requireProgram('ssh');
  const hostKey = await loadOrCreateKey(join(dir, 'relay_host_ed25519'), '');
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKey.publicKeyLine}\n`);
  const askpass = join(dir, `askpass-${password.replace(/\W/g, '')}.sh`);
  await writeFile(askpass, `#!/bin/sh\necho '${password}'\n`);
  await chmod(askpass, 0o700);
  return {
    args: [
      '-p',
      String(port),
      '-F',
      '/dev/null',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'PubkeyAuthentication=no',
      '-o',
      'PreferredAuthentications=keyboard-interactive,password',
      '-o',
      'NumberOfPasswordPrompts=1',
    ],
    env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
  };
}
