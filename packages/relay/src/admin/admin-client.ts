import { createConnection } from 'node:net';
import { LifelineError } from '@lifeline/shared/core';
import { LineSplitter, MAX_RESPONSE_BYTES, MAX_SOCKET_PATH_BYTES, type AdminRequest } from './admin-protocol.js';

/**
 * Sends one command to a running relay's admin socket and returns its result (what the
 * relay's handler returned). Throws LifelineError ADMIN_UNREACHABLE when no relay answers
 * (no socket, stale socket, permission denied, timeout, hung up) and ADMIN_COMMAND_FAILED when
 * the relay answered with an error (unknown command, handler failed); the message says which.
 */
export function adminRequest(socketPath: string, command: string | AdminRequest, timeoutMs = 5_000): Promise<unknown> {
  const request: AdminRequest = typeof command === 'string' ? { command } : command;
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    return Promise.reject(
      unreachable(`admin socket path ${socketPath} is too long for a Unix socket (at most ${MAX_SOCKET_PATH_BYTES} bytes)`),
    );
  }
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const splitter = new LineSplitter(MAX_RESPONSE_BYTES);
    let settled = false;
    const finish = (err: Error | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(
      () => finish(unreachable(`the relay did not answer on admin socket ${socketPath} within ${timeoutMs} ms`)),
      timeoutMs,
    );

    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(connectError(socketPath, err)));
    socket.once('close', () => finish(unreachable(`the relay on admin socket ${socketPath} hung up without answering`)));
    socket.on('data', (chunk: Buffer) => {
      const { lines, tooLong } = splitter.push(chunk);
      if (tooLong) return finish(unreachable(`the answer on admin socket ${socketPath} is too long`));
      const line = lines[0];
      if (line === undefined) return;
      try {
        finish(undefined, result(request.command, line));
      } catch (err) {
        finish(err as Error);
      }
    });
  });
}

function result(command: string, line: string): unknown {
  let response: unknown;
  try {
    response = JSON.parse(line);
  } catch (err) {
    throw new LifelineError('ADMIN_UNREACHABLE', 'the relay answered something that is not JSON', { cause: err });
  }
  const answer = (typeof response === 'object' && response !== null ? response : {}) as Record<string, unknown>;
  if (answer.ok === true) return answer[command];
  const error = typeof answer.error === 'string' ? answer.error : 'no reason given';
  throw new LifelineError('ADMIN_COMMAND_FAILED', `the relay refused "${command}": ${error}`);
}

function connectError(socketPath: string, err: NodeJS.ErrnoException): LifelineError {
  switch (err.code) {
    case 'ENOENT':
      return unreachable(`no relay is running with admin socket ${socketPath} (is the path right?)`, err);
    case 'ECONNREFUSED':
      return unreachable(
        `no relay is running with admin socket ${socketPath} (nothing answers there: the socket file is left from a relay that stopped)`,
        err,
      );
    case 'EACCES':
    case 'EPERM':
      return unreachable(`permission denied on admin socket ${socketPath}: run this as the relay's user (or root)`, err);
    default:
      return unreachable(`cannot reach the relay on admin socket ${socketPath}: ${err.message}`, err);
  }
}

function unreachable(message: string, cause?: unknown): LifelineError {
  return new LifelineError('ADMIN_UNREACHABLE', message, { cause });
}
