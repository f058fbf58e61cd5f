import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { requireProgram } from './programs.js';
import { waitFor } from './wait.js';
import { connect } from 'node:net';

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
    private readonly child: ChildProcess,
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
    const args = ['-n', '-u', '-d', '-c', config];
    const child = options.straceFile
      ? spawn('strace', ['-f', '-qq', '-e', 'trace=ioctl', '-o', options.straceFile, 'ser2net', ...args], { stdio: 'ignore' })
      : spawn('ser2net', args, { stdio: 'ignore' });
    await waitFor('ser2net listening', () => canConnect(port), 10_000, 100);
    return new Ser2net(port, child);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
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
