import { chmod, lstat, mkdtemp, rename, rm, stat, unlink } from 'node:fs/promises';
import { createConnection, type Server } from 'node:net';
import { dirname } from 'node:path';
import { LifelineError, type Logger } from '@lifeline/shared/core';
import { MAX_SOCKET_PATH_BYTES } from './admin-protocol.js';

/** How long a socket file may take to answer before it counts as held by a running relay. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Clears the way for a new admin socket at `path`: a socket file nothing answers on (left by a
 * relay that crashed) is removed. Throws ADMIN_SOCKET_IN_USE when something answers (another
 * relay: its socket is not stolen) and ADMIN_SOCKET_FAILED when `path` is not a socket or
 * cannot be checked.
 */
export async function removeStaleSocket(path: string, logger: Logger): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LifelineError('ADMIN_SOCKET_FAILED', `cannot check admin socket ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!isSocket)
    throw new LifelineError(
      'ADMIN_SOCKET_FAILED',
      `${path} exists and is not a socket; not replacing it (set adminSocket to another path)`,
    );
  if (await answers(path)) {
    throw new LifelineError('ADMIN_SOCKET_IN_USE', `a relay is already running with admin socket ${path}`);
  }
  await unlink(path);
  logger.info({ event: 'admin.stale-socket', path }, 'removed a stale admin socket');
}

/**
 * Listens on `path` with a socket that is mode 0600 from its first moment: it is bound in a
 * private folder (0700) next to `path`, made 0600, then renamed into place, so nobody else
 * can connect in between, and nothing process-wide (umask) changes. Returns the socket file's
 * inode, so closing removes only our own file.
 */
export async function listenPrivately(server: Server, path: string): Promise<number> {
  checkLength(path);
  let dir: string;
  try {
    // Not path.join: it would normalise the trailing "." away.
    dir = await mkdtemp(`${dirname(path)}/.admin-`);
  } catch (err) {
    throw new LifelineError('ADMIN_SOCKET_FAILED', `cannot create admin socket ${path}: ${(err as Error).message}`, { cause: err });
  }
  const temp = `${dir}/s`;
  try {
    checkLength(temp, `admin socket path ${path} is too long: it is bound first as ${temp}, which`);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(temp, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(temp, 0o600);
    await rename(temp, path);
    return (await stat(path)).ino;
  } catch (err) {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
    if (err instanceof LifelineError) throw err;
    throw new LifelineError('ADMIN_SOCKET_FAILED', `cannot create admin socket ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Removes the socket file if it is still the one we made (not a newer relay's). */
export async function removeOwnSocket(path: string, ino: number): Promise<void> {
  try {
    if ((await stat(path)).ino === ino) await unlink(path);
  } catch {
    // Already gone.
  }
}

/** Node cuts a longer path silently (and binds somewhere else), so refuse it here. */
function checkLength(path: string, subject = `admin socket path ${path}`): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new LifelineError(
      'ADMIN_SOCKET_FAILED',
      `${subject} is too long for a Unix socket (${bytes} bytes, at most ${MAX_SOCKET_PATH_BYTES})`,
    );
  }
}

/** True when a process accepts connections on the socket; false when the file is stale. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const done = (live: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(live);
    };
    // A socket that neither accepts nor refuses is held by something: do not take it over.
    const timer = setTimeout(() => done(true), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') return done(false);
      clearTimeout(timer);
      reject(new LifelineError('ADMIN_SOCKET_FAILED', `cannot check admin socket ${path}: ${err.message}`, { cause: err }));
    });
  });
}
