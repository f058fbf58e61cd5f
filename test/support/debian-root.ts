import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { requireProgram } from './programs.js';

/** Where fresh roots are kept between runs, one tarball per suite and package set. */
export const ROOT_CACHE = '/var/cache/lifeline-test';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never throws for a non-zero exit (the caller asserts on `code`). */
export function runCommand(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000, env: options.env ?? process.env },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr: err && code === 1 && !stderr ? `${err.message}` : stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The environment a root shell would have; the host's own PATH and npm settings stay out. */
const chrootEnv: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LC_ALL: 'C.UTF-8',
  DEBIAN_FRONTEND: 'noninteractive',
};

/**
 * A fresh Debian root made by debootstrap, entered with chroot, with /proc, /sys, /dev and
 * /dev/pts mounted as a booted system has them. The root is cached as a tarball in ROOT_CACHE
 * (keyed by suite, variant, extra packages and architecture), so only the first run on a
 * machine downloads it. `close()` unmounts everything and removes the root only when nothing is
 * mounted under it any more (a bind-mounted /dev must never be deleted through it).
 */
export class DebianRoot {
  private readonly mounts: string[] = [];

  private constructor(readonly path: string) {}

  static async create(path: string, options: { suite: string; mirror: string; include: string[] }): Promise<DebianRoot> {
    for (const program of ['debootstrap', 'chroot', 'mount', 'umount', 'tar']) requireProgram(program);
    const arch = (await runCommand('dpkg', ['--print-architecture'])).stdout.trim();
    const tarball = join(ROOT_CACHE, `debian-${options.suite}-minbase+${options.include.join('+')}-${arch}.tar`);
    await mkdir(path, { recursive: true });
    if (await exists(tarball)) {
      await must(runCommand('tar', ['--numeric-owner', '-xpf', tarball, '-C', path]), `unpack ${tarball}`);
    } else {
      const made = await runCommand(
        'debootstrap',
        ['--variant=minbase', `--include=${options.include.join(',')}`, options.suite, path, options.mirror],
        { timeoutMs: 480_000 },
      );
      if (made.code !== 0)
        throw new Error(
          `debootstrap ${options.suite} from ${options.mirror} failed:\n${made.stdout.slice(-2000)}${made.stderr.slice(-2000)}`,
        );
      // debootstrap leaves the packages it installed in apt's cache: not part of a fresh system.
      await must(runCommand('chroot', [path, 'apt-get', 'clean'], { env: chrootEnv }), 'apt-get clean');
      await mkdir(ROOT_CACHE, { recursive: true });
      await must(runCommand('tar', ['--numeric-owner', '-cf', `${tarball}.partial`, '-C', path, '.']), `cache ${tarball}`);
      await rename(`${tarball}.partial`, tarball);
    }
    const root = new DebianRoot(path);
    try {
      await root.mount(['-t', 'proc', 'proc'], 'proc');
      await root.mount(['-t', 'sysfs', 'sysfs'], 'sys');
      await root.mount(['--bind', '/dev'], 'dev');
      await root.mount(['--bind', '/dev/pts'], 'dev/pts');
    } catch (err) {
      await root.close();
      throw err;
    }
    await copyFile('/etc/resolv.conf', join(path, 'etc/resolv.conf'));
    return root;
  }

  /** Runs a command inside the root as root, to its end. */
  run(args: string[], options: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
    return runCommand('chroot', [this.path, ...args], { ...options, env: { ...chrootEnv, ...options.env } });
  }

  /** Starts a long-running command inside the root, in its own process group (kill -PGID stops it all). */
  spawn(args: string[]): ChildProcess {
    return spawn('chroot', [this.path, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: chrootEnv, detached: true });
  }

  /** A path inside the root, as seen from the host. */
  file(path: string): string {
    return join(this.path, path);
  }

  /** Unmounts everything (last first) and removes the root, unless something is still mounted under it. */
  async close(): Promise<void> {
    for (const target of this.mounts.splice(0).reverse()) {
      const done = await runCommand('umount', [target]);
      if (done.code !== 0) await runCommand('umount', ['--lazy', target]);
    }
    const mounted = (await readFile('/proc/self/mounts', 'utf8'))
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((target) => target === this.path || target.startsWith(`${this.path}/`));
    if (mounted.length > 0) throw new Error(`still mounted, so ${this.path} is left in place: ${mounted.join(', ')}`);
    await rm(this.path, { recursive: true, force: true });
  }

  private async mount(args: string[], where: string): Promise<void> {
    const target = join(this.path, where);
    await must(runCommand('mount', [...args, target]), `mount ${where}`);
    this.mounts.push(target);
  }
}

/** Keeps apt's downloads between runs: copies cached .debs in before an install and new ones out after. */
export async function withAptCache<T>(root: DebianRoot, key: string, install: () => Promise<T>): Promise<T> {
  const cache = join(ROOT_CACHE, `apt-archives-${key}`);
  const archives = root.file('var/cache/apt/archives');
  await mkdir(cache, { recursive: true });
  await mkdir(archives, { recursive: true });
  for (const deb of (await readdir(cache)).filter((f) => f.endsWith('.deb'))) await copyFile(join(cache, deb), join(archives, deb));
  try {
    return await install();
  } finally {
    // Only the distribution's packages: ours are installed from a path and never land here.
    for (const deb of (await readdir(archives)).filter((f) => f.endsWith('.deb'))) await copyFile(join(archives, deb), join(cache, deb));
  }
}

async function must(result: Promise<CommandResult>, what: string): Promise<CommandResult> {
  const done = await result;
  if (done.code !== 0) throw new Error(`${what} failed (${done.code}): ${done.stderr.trim() || done.stdout.trim()}`);
  return done;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
