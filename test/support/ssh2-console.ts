import ssh2, { type ClientChannel } from 'ssh2';
import { waitFor } from './wait.js';

export interface ConsoleClient {
  /** Everything received so far, as latin1 so every byte value maps to one character. */
  readonly output: () => string;
  readonly bytes: () => Buffer;
  write(data: Buffer | string): void;
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the session's exit status (null if none was sent) when the channel closes. */
  readonly closed: Promise<number | null>;
  end(): void;
}

/** A console session whose stdout (console bytes) and stderr (lifeline's lines without a pty) are kept apart. */
export interface ConsoleChannel extends ConsoleClient {
  /** What arrived on stderr; `output()` and `bytes()` hold stdout alone. */
  readonly stderr: () => string;
  /** The ssh2 channel itself, e.g. to `pause()` it like a person whose terminal stopped reading. */
  readonly channel: ClientChannel;
  /** Resolves with the exit status as soon as it arrives, even while the channel is paused. */
  readonly exited: Promise<number | null>;
}

export interface ConsoleOptions {
  port: number;
  user: string;
  password?: string;
  /** OpenSSH private key, instead of (or as well as) a password. */
  privateKey?: Buffer | string;
  pty?: boolean;
}

/** Logs in with the ssh2 client (password) and opens the console as a shell, with or without a pty; stderr is merged into the output. */
export async function openConsole(options: ConsoleOptions): Promise<ConsoleClient> {
  return openSession(options, true);
}

/**
 * As `openConsole`, with stderr kept apart from stdout, and `onData` called with each stdout
 * chunk as it arrives (timing it there costs nothing, unlike polling `bytes()`).
 */
export function openConsoleChannel(options: ConsoleOptions & { onData?: (chunk: Buffer) => void }): Promise<ConsoleChannel> {
  return openSession(options, false);
}

function openSession(options: ConsoleOptions & { onData?: (chunk: Buffer) => void }, mergeStderr: boolean): Promise<ConsoleChannel> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.shell(options.pty === false ? false : { term: 'xterm', cols: 100, rows: 30 }, (err, channel) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        const errChunks: Buffer[] = [];
        let exitCode: number | null = null;
        channel.on('data', (d: Buffer) => {
          chunks.push(d);
          options.onData?.(d);
        });
        channel.stderr.on('data', (d: Buffer) => (mergeStderr ? chunks : errChunks).push(d));
        const exited = new Promise<number | null>((done) =>
          channel.on('exit', (code: number | null) => {
            exitCode = code;
            done(code);
          }),
        );
        const closed = new Promise<number | null>((done) =>
          channel.on('close', () => {
            client.end();
            done(exitCode);
          }),
        );
        const bytes = () => Buffer.concat(chunks);
        resolve({
          output: () => bytes().toString('latin1'),
          bytes,
          stderr: () => Buffer.concat(errChunks).toString('latin1'),
          channel,
          exited,
          write: (data) => channel.write(data),
          waitForOutput: (text, timeoutMs = 10_000) =>
            waitFor(
              () => `console output ${String(text)} (got: ${JSON.stringify(bytes().toString('latin1').slice(-300))})`,
              () => {
                const out = bytes().toString('latin1');
                return (typeof text === 'string' ? out.includes(text) : text.test(out)) ? out : undefined;
              },
              timeoutMs,
            ),
          closed,
          end: () => channel.end(),
        });
      });
    });
    client.connect({
      host: '127.0.0.1',
      port: options.port,
      username: options.user,
      password: options.password,
      privateKey: options.privateKey,
      readyTimeout: 10_000,
    });
  });
}

/** Tries a login and reports how it ended: 'ok', the client's error level/message, or 'closed' (the relay hung up). */
export function tryLogin(options: { port: number; user: string; password: string }): Promise<string> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    client.on('error', (err: Error & { level?: string }) => resolve(`${err.level ?? 'error'}: ${err.message}`));
    client.on('close', () => resolve('closed'));
    client.on('ready', () => {
      client.end();
      resolve('ok');
    });
    client.connect({ host: '127.0.0.1', port: options.port, username: options.user, password: options.password, readyTimeout: 10_000 });
  });
}
