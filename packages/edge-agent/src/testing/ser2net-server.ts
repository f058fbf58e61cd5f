import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@lifeline/shared/testing';

export interface Ser2netServer {
  /** Telnet (RFC 2217) port on 127.0.0.1. */
  readonly port: number;
  /** ioctl lines ser2net issued so far (only when started with `strace: true`). */
  ioctls(): Promise<string[]>;
  /** Stops strace (if any) and ser2net. */
  stop(): Promise<void>;
}

/**
 * ser2net 4 serving `ttyPath` as a Telnet + RFC 2217 terminal server on 127.0.0.1, as a site's
 * terminal server would; optionally with strace attached by pid to see the break ioctls.
 * Throws if ser2net (or strace) is missing: tests that need it fail rather than skip.
 */
export async function startSer2net(
  dir: string,
  ttyPath: string,
  options: { strace?: boolean; kickOldUser?: boolean } = {},
): Promise<Ser2netServer> {
  const port = await freePort();
  const config = join(dir, 'ser2net.yaml');
  await writeFile(
    config,
    `connection: &con0\n  accepter: telnet(rfc2217),tcp,127.0.0.1,${port}\n` +
      `  connector: serialdev,${ttyPath},115200n81,local\n  options:\n    kickolduser: ${options.kickOldUser ?? true}\n`,
  );
  const children: ChildProcess[] = [];
  const ser2net = spawnChecked('ser2net', ['-n', '-u', '-d', '-c', config]);
  children.push(ser2net.child);
  await until('ser2net listening', () => ser2net.failure() ?? listening(port));
  let straceFile: string | undefined;
  if (options.strace) {
    straceFile = join(dir, 'ser2net.strace');
    const strace = spawnChecked('strace', ['-f', '-e', 'trace=ioctl', '-o', straceFile, '-p', String(ser2net.child.pid)]);
    children.unshift(strace.child);
    await until('strace attached to ser2net', () => strace.failure() ?? strace.stderr().includes('attached'));
  }
  return {
    port,
    async ioctls() {
      if (!straceFile) throw new Error('ser2net was started without strace');
      const text = await readFile(straceFile, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.includes('ioctl('));
    },
    async stop() {
      for (const child of children) await stopChild(child);
    },
  };
}

function spawnChecked(program: string, args: string[]) {
  const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let error: Error | undefined;
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('error', (err) => (error = new Error(`cannot run ${program} (apt-get install ${program}): ${err.message}`)));
  child.once('exit', (code) => (error ??= new Error(`${program} exited with ${code}: ${stderr.trim()}`)));
  return {
    child,
    stderr: () => stderr,
    failure: (): false | undefined => {
      if (error) throw error;
      return undefined;
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/** LISTEN on 127.0.0.1:port per /proc/net/tcp: no probe connection for ser2net to serve. */
async function listening(port: number): Promise<boolean> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((line) => line.trim().split(/\s+/)[1] === local && line.trim().split(/\s+/)[3] === '0A');
}

async function until(what: string, check: () => boolean | undefined | Promise<boolean | undefined>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
