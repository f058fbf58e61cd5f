import { execFileSync } from 'node:child_process';

/**
 * Real peer programs the end-to-end tests need. A missing one fails the test with the package
 * to install, never a silent skip: .ci/run installs them all.
 */
const packages: Record<string, string> = {
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  plink: 'putty-tools',
  socat: 'socat',
  ser2net: 'ser2net',
  strace: 'strace',
  tmux: 'tmux',
  debootstrap: 'debootstrap',
  'dpkg-deb': 'dpkg',
  'systemd-analyze': 'systemd',
  chroot: 'coreutils',
  useradd: 'passwd',
  userdel: 'passwd',
  setpriv: 'util-linux',
};

export function requireProgram(name: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`])
      .toString()
      .trim();
  } catch {
    throw new Error(`this test needs the program "${name}": apt-get install ${packages[name] ?? name}`);
  }
}
