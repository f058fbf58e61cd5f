import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { requireProgram } from './programs.js';
import { waitFor } from './wait.js';

/** A free TCP port on 127.0.0.1 (bound and released; fine for a test that starts a server right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * ser2net 4 serving a tty as a Telnet + RFC 2217 terminal server on 127.0.0.1, as a site's
 * terminal server would. Optionally under strace, to see the break ioctls it issues.
 */
export class Ser2net {
  private constructor(
    readonly port: number,
    private readonly children: ChildProcess[],
  ) {}

  static async start(dir: string, ttyPath: string, options: { straceFile?: string } = {}): Promise<Ser2net> {
    requireProgram('ser2net');
    const port = await freePort();
    const config = join(dir, 'ser2net.yaml');
    await writeFile(
      config,
      [
        'connection: &con0',
        `  accepter: telnet(rfc2217),tcp,127.0.0.1,${port}`,
        `  connector: serialdev,${ttyPath},115200n81,local`,
        '  options:',
        '    kickolduser: true',
        '',
      ].join('\n'),
    );
    const ser2net = spawn('ser2net', ['-n', '-u', '-d', '-c', config], { stdio: 'ignore' });
    const children = [ser2net];
    await waitFor('ser2net listening', () => canConnect(port), 10_000, 100);
    if (options.straceFile) {
      // Attached by pid rather than started under strace: then each can be stopped on its own.
      requireProgram('strace');
      const file = options.straceFile;
      children.unshift(spawn('strace', ['-f', '-qq', '-e', 'trace=ioctl', '-o', file, '-p', String(ser2net.pid)], { stdio: 'ignore' }));
      await waitFor('strace attached to ser2net', () => existsSync(file), 5_000);
    }
    return new Ser2net(port, children);
  }

  async stop(): Promise<void> {
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
}

function canConnect(port: number): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(undefined));
  });
}
