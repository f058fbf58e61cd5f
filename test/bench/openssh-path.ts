import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@lifeline/shared/testing';
import { waitFor } from '../support/wait.js';

/** A child process whose stderr is kept, for waiting on what it prints and for error messages. */
interface Child {
  process: ChildProcess;
  stderr: () => string;
}

function start(command: string, args: string[]): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('error', (err) => (stderr += `\n${err.message}`));
  return { process: child, stderr: () => stderr };
}

async function waitForLine(what: string, child: Child, pattern: RegExp): Promise<RegExpExecArray> {
  return waitFor(
    () => `${what} (stderr: ${child.stderr().slice(-400)})`,
    () => {
      if (child.process.exitCode !== null) throw new Error(`${what}: exited ${child.process.exitCode}: ${child.stderr().slice(-400)}`);
      return pattern.exec(child.stderr()) ?? undefined;
    },
    10_000,
  );
}

async function stop(child: Child | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill('SIGTERM');
  await exited;
}

/** Where OpenSSH's server is on this machine, or why not (the package to install). */
export function findSshd(): string | string[] {
  const missing: string[] = [];
  if (!existsSync('/usr/sbin/sshd')) missing.push('sshd (apt-get install openssh-server)');
  for (const program of ['ssh', 'ssh-keygen', 'socat']) {
    try {
      execFileSync('sh', ['-c', `command -v ${program}`]);
    } catch {
      missing.push(`${program} (apt-get install ${program === 'socat' ? 'socat' : 'openssh-client'})`);
    }
  }
  return missing.length ? missing : '/usr/sbin/sshd';
}

/**
 * The home-made setup lifeline replaces, on loopback: a jump host running OpenSSH's sshd (own
 * config and host key in `dir`, 127.0.0.1 only), a site box holding `ssh -N -R` to it with socat
 * serving the serial port on a local TCP port, and the engineer logging in to the jump host and
 * running `socat - TCP:localhost:PORT` (in place of `cu` or `telnet`) to reach the console.
 */
export class OpenSshPath {
  private constructor(
    private readonly children: Child[],
    readonly sshdPort: number,
    readonly user: string,
    readonly keyFile: string,
    readonly remotePort: number,
  ) {}

  /** The jump host's sshd (its per-connection and per-session processes are its children). */
  get sshdPid(): number {
    return this.children[0]!.process.pid!;
  }

  /** The person's command on the jump host. */
  get consoleCommand(): string[] {
    return ['socat', '-', `TCP:127.0.0.1:${this.remotePort}`];
  }

  /** `ttyPath`: the serial port as the site box sees it; `keyFile`/`publicKeyLine`: one key for the box and the person. */
  static async start(dir: string, options: { ttyPath: string; keyFile: string; publicKeyLine: string }): Promise<OpenSshPath> {
    const sshd = findSshd();
    if (Array.isArray(sshd)) throw new Error(`the OpenSSH baseline needs ${sshd.join(', ')}`);
    const hostKey = join(dir, 'ssh_host_ed25519_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    await writeFile(join(dir, 'authorized_keys'), `${options.publicKeyLine}\n`, { mode: 0o600 });
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'AllowTcpForwarding yes',
        'PrintMotd no',
        'LogLevel INFO',
      ].join('\n'),
    );
    // sshd started as root insists on its privilege separation folder (Debian's unit makes it).
    if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const children: Child[] = [];
    try {
      const daemon = start(sshd, ['-D', '-e', '-f', config]);
      children.push(daemon);
      await waitForLine('sshd listening', daemon, /Server listening on 127\.0\.0\.1 port/);

      const consolePort = await freePort();
      const serve = start('socat', [
        '-d',
        '-d',
        `TCP-LISTEN:${consolePort},bind=127.0.0.1,reuseaddr,fork`,
        `OPEN:${options.ttyPath},raw,echo=0`,
      ]);
      children.push(serve);
      await waitForLine('socat serving the serial port', serve, /listening on/);

      const user = userInfo().username;
      const tunnel = start('ssh', [
        ...['-F', '/dev/null', '-N', '-p', String(port), '-i', options.keyFile, '-R', `0:127.0.0.1:${consolePort}`],
        ...[
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          'BatchMode=yes',
          '-o',
          'ExitOnForwardFailure=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
        ],
        `${user}@127.0.0.1`,
      ]);
      children.push(tunnel);
      const allocated = await waitForLine('ssh -R tunnel', tunnel, /Allocated port (\d+) for remote forward/);
      return new OpenSshPath(children, port, user, options.keyFile, Number(allocated[1]));
    } catch (err) {
      for (const child of children.reverse()) await stop(child);
      throw err;
    }
  }

  async stop(): Promise<void> {
    for (const child of [...this.children].reverse()) await stop(child);
  }
}
