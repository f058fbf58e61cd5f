import { createServer, type Socket } from 'node:net';
import type { Logger } from '@lifeline/shared/core';
import { LineSplitter, MAX_REQUEST_BYTES, type AdminRequest, type AdminResponse } from './admin-protocol.js';
import { listenPrivately, removeOwnSocket, removeStaleSocket } from './admin-socket-file.js';

/**
 * Answers one admin command. Gets the whole request (for commands that take arguments); what
 * it returns (JSON-serialisable) is sent under the command's name. A throw is answered with
 * `{"ok":false,"error":<its message>}`.
 */
export type AdminHandler = (request: AdminRequest) => unknown;

export interface AdminServerOptions {
  /** Absolute path of the Unix socket (`adminSocket` in relay.yaml, resolved). */
  socketPath: string;
  /** Commands by name, e.g. `{ sessions: () => sessions.snapshot() }`. */
  handlers: Record<string, AdminHandler>;
  logger: Logger;
  /** A connection silent for this long is closed; ADMIN_IDLE_TIMEOUT_MS unless a test shortens it. */
  idleTimeoutMs?: number;
  /**
   * Answers a client may leave unread (`limits.adminQueueBytes`): one that keeps sending
   * requests past this without reading is disconnected, so the relay never holds more for it
   * than this and one answer.
   */
  maxQueuedBytes: number;
}

/**
 * An admin-socket connection silent this long is closed. Not configurable: the clients are the
 * relay's own CLI commands, which send a request at once and close after the answer; this only
 * frees the descriptor of one that hangs (a stopped process on the other end).
 */
export const ADMIN_IDLE_TIMEOUT_MS = 30_000;

export interface AdminServer {
  readonly socketPath: string;
  /** Open client connections. */
  readonly connections: number;
  /** Answer bytes written to clients and not yet taken by them (held in the relay's memory). */
  queuedBytes(): number;
  /** Stops listening, closes open connections and removes the socket file. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the relay's local admin interface: a Unix socket with mode 0600, so only the relay's
 * own user (and root) on its own host can use it. A stale socket file from a crashed relay is
 * removed; a live one is not. Throws LifelineError ADMIN_SOCKET_IN_USE (another relay answers
 * there) or ADMIN_SOCKET_FAILED (not a socket, path too long, folder missing or not writable).
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const logger = options.logger.child({ component: 'admin' });
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    serve(socket, options.handlers, logger, options.idleTimeoutMs ?? ADMIN_IDLE_TIMEOUT_MS, options.maxQueuedBytes);
  });
  await removeStaleSocket(options.socketPath, logger);
  const ino = await listenPrivately(server, options.socketPath);
  logger.info({ event: 'admin.listening', path: options.socketPath }, 'admin socket ready');

  let closing: Promise<void> | undefined;
  return {
    socketPath: options.socketPath,
    get connections() {
      return connections.size;
    },
    queuedBytes: () => [...connections].reduce((sum, socket) => sum + socket.writableLength, 0),
    close() {
      closing ??= (async () => {
        const closed = new Promise((resolve) => server.close(resolve));
        for (const socket of connections) socket.destroy();
        await closed;
        await removeOwnSocket(options.socketPath, ino);
      })();
      return closing;
    },
  };
}

/**
 * One connection: requests answered in order; garbage or an oversized line ends it. Reading
 * pauses while requests wait for their answers, and a client whose unread answers pass
 * `maxQueuedBytes` is cut off: nothing is held for a client without a bound.
 */
function serve(
  socket: Socket,
  handlers: Record<string, AdminHandler>,
  logger: Logger,
  idleTimeoutMs: number,
  maxQueuedBytes: number,
): void {
  const splitter = new LineSplitter(MAX_REQUEST_BYTES);
  let queue = Promise.resolve();
  let waiting = 0;
  let ended = false;

  const reply = (response: AdminResponse) => {
    if (ended) return;
    if (socket.writableLength > maxQueuedBytes) {
      ended = true;
      logger.warn(
        { event: 'admin.slow-client', queuedBytes: socket.writableLength, limit: maxQueuedBytes },
        'admin client is not reading its answers; disconnecting it',
      );
      socket.destroy();
      return;
    }
    socket.write(`${serialise(response)}\n`);
  };
  const refuse = (error: string) => {
    if (ended) return;
    logger.info({ event: 'admin.bad-request', error }, 'admin request refused; closing the connection');
    socket.end(`${JSON.stringify({ ok: false, error })}\n`, () => socket.destroy());
    ended = true;
  };

  socket.setTimeout(idleTimeoutMs, () => socket.destroy());
  socket.on('error', () => {
    // The client went away; nothing to answer.
  });
  socket.on('data', (chunk: Buffer) => {
    if (ended) return;
    const { lines, tooLong } = splitter.push(chunk);
    for (const line of lines) {
      waiting++;
      queue = queue
        .then(() => answer(line))
        .finally(() => {
          if (--waiting === 0 && !ended) socket.resume();
        });
    }
    // What one chunk held is queued; take no more until it is answered.
    if (waiting > 0) socket.pause();
    if (tooLong) {
      queue = queue.then(() => refuse(`request too long (at most ${MAX_REQUEST_BYTES} bytes per line)`));
      socket.pause();
    }
  });

  async function answer(line: string): Promise<void> {
    // One answer per turn of the event loop: the socket gets to hand what is written so far to
    // a client that reads, so only one that does not read piles answers up to the bound.
    await new Promise((resolve) => setImmediate(resolve));
    if (ended || line.trim() === '') return;
    const request = parseRequest(line);
    if (!request) return refuse('not a request: send one JSON object per line, like {"command":"sessions"}');
    const { command } = request;
    if (!Object.hasOwn(handlers, command)) {
      return reply({ ok: false, error: `unknown command "${command}" (known: ${Object.keys(handlers).sort().join(', ')})` });
    }
    logger.debug({ event: 'admin.request', command }, 'admin request');
    try {
      reply({ ok: true, [command]: await handlers[command]!(request) });
    } catch (err) {
      logger.warn({ event: 'admin.command-failed', command, err }, 'admin command failed');
      reply({ ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

function parseRequest(line: string): AdminRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const command = (value as Record<string, unknown>).command;
  return typeof command === 'string' && command !== '' ? (value as AdminRequest) : undefined;
}

/** A result JSON cannot carry (a BigInt, a cycle) is an error answer, not a crash. */
function serialise(response: AdminResponse): string {
  try {
    return JSON.stringify(response);
  } catch (err) {
    return JSON.stringify({ ok: false, error: `cannot encode the answer: ${(err as Error).message}` });
  }
}
