import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openConsoleChannel } from '../support/ssh2-console.js';

/** A person's SSH client, as the benchmark drives it: bytes out of stdout, bytes into stdin. */
export interface PersonClient {
  /** How the client is doing, for error messages (e.g. what `ssh` said before it exited). */
  status(): string;
  /** Sends bytes; resolves once the client took them (its flow control holds back the rest). */
  write(data: Buffer): Promise<void>;
  /** Ends the session and waits for the client to go. */
  close(): Promise<void>;
}

/** ssh2's client in this process, key login, no pty (console bytes only on stdout). */
export async function ssh2Person(options: {
  port: number;
  user: string;
  privateKey: Buffer;
  onData?: (chunk: Buffer) => void;
}): Promise<PersonClient> {
  const c = await openConsoleChannel({
    port: options.port,
    user: options.user,
    privateKey: options.privateKey,
    pty: false,
    onData: options.onData,
  });
  return {
    status: () => `ssh2 client, stderr: ${JSON.stringify(c.stderr().slice(-300))}`,
    write: async (data) => {
      if (!c.channel.write(data)) await once(c.channel, 'drain');
    },
    close: async () => {
      c.end();
      await Promise.race([c.closed, new Promise((r) => setTimeout(r, 5_000))]);
      c.channel.destroy();
    },
  };
}

/**
 * OpenSSH's `ssh` as a child process, key login, no pty (`-T`), no config files; `command` is
 * run on the server (for the OpenSSH path), nothing for lifeline (the login is the console).
 */
export function openSshPerson(options: {
  port: number;
  user: string;
  keyFile: string;
  command?: string[];
  onData?: (chunk: Buffer) => void;
}): PersonClient {
  const child = spawn(
    'ssh',
    [
      ...['-F', '/dev/null', '-T', '-p', String(options.port), '-i', options.keyFile],
      ...[
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'LogLevel=ERROR',
      ],
      `${options.user}@127.0.0.1`,
      ...(options.command ?? []),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (chunk: Buffer) => options.onData?.(chunk));
  child.stdin.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    status: () => `ssh ${child.exitCode === null ? 'running' : `exited ${child.exitCode}`}, stderr: ${JSON.stringify(stderr.slice(-300))}`,
    write: async (data) => {
      if (!child.stdin.write(data)) await once(child.stdin, 'drain');
    },
    close: async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGTERM'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
