import { execFile } from 'node:child_process';
import { chmod, link, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { silentLogger } from '@lifeline/shared';
import { copyProgramsForAnyone } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminRequest } from './admin-client.js';
import { startAdminServer, type AdminServer } from './admin-server.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const NOBODY = '65534';

let dir: string;
let socketPath: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'admin-client-'));
  socketPath = join(dir, 'relay.sock');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function startRelaySocket(): Promise<AdminServer> {
  const server = await startAdminServer({
    socketPath,
    handlers: { sessions: () => [] },
    logger: silentLogger(),
    maxQueuedBytes: 1_048_576,
  });
  cleanups.push(() => server.close());
  return server;
}

/** A plain listener at socketPath that does something else than answer properly. */
async function listen(onConnection: (socket: Socket) => void): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return server;
}

/** Runs `code` (an ES module) with `node` as user nobody; its stdout. */
async function runAsNobody(node: string, code: string): Promise<string> {
  // Only the socket's own mode may stand in the way, not the test's private temp folder.
  await chmod(dir, 0o755);
  const { stdout } = await run(
    'setpriv',
    ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', node, '--input-type=module', '-e', code],
    {
      timeout: 10_000,
    },
  );
  return stdout.trim();
}

describe('adminRequest', () => {
  it('says that no relay is running when the socket file is missing', async () => {
    await expect(adminRequest(socketPath, 'sessions')).rejects.toMatchObject({
      code: 'ADMIN_UNREACHABLE',
      message: `no relay is running with admin socket ${socketPath} (is the path right?)`,
    });
  });

  it('says that no relay is running when the socket file is stale', async () => {
    const old = createServer();
    await new Promise<void>((resolve) => old.listen(join(dir, 'old.sock'), resolve));
    await link(join(dir, 'old.sock'), socketPath);
    await new Promise((resolve) => old.close(resolve));
    await expect(adminRequest(socketPath, 'sessions')).rejects.toMatchObject({
      code: 'ADMIN_UNREACHABLE',
      message: expect.stringMatching(/^no relay is running with admin socket .*relay\.sock \(nothing answers/),
    });
  });

  it('gives up after the timeout when the relay does not answer', async () => {
    await listen(() => {});
    await expect(adminRequest(socketPath, 'sessions', 200)).rejects.toMatchObject({
      code: 'ADMIN_UNREACHABLE',
      message: expect.stringMatching(/did not answer .* within 200 ms/),
    });
  });

  it('reports a relay that hangs up without answering', async () => {
    await listen((socket) => socket.end());
    await expect(adminRequest(socketPath, 'sessions')).rejects.toMatchObject({
      code: 'ADMIN_UNREACHABLE',
      message: expect.stringMatching(/hung up/),
    });
  });

  it('reports an answer that is not JSON', async () => {
    await listen((socket) => socket.end('<html>\n'));
    await expect(adminRequest(socketPath, 'sessions')).rejects.toMatchObject({
      code: 'ADMIN_UNREACHABLE',
      message: expect.stringMatching(/not JSON/),
    });
  });

  it('reads an answer that arrives in pieces', async () => {
    await listen((socket) => {
      socket.write('{"ok":true,"sess');
      setTimeout(() => socket.write('ions":[1,2]}\n'), 20);
    });
    expect(await adminRequest(socketPath, 'sessions')).toEqual([1, 2]);
  });

  // As root, a real second user: setpriv runs node as nobody against the 0600 socket. As anyone
  // else, the socket's owner is shut out by mode 0000 (root would not be).
  it('keeps other users out and tells them permission denied', async () => {
    await startRelaySocket();
    const denied = `permission denied on admin socket ${socketPath}: run this as the relay's user (or root)`;
    if (!isRoot) {
      await chmod(socketPath, 0o000);
      await expect(adminRequest(socketPath, 'sessions')).rejects.toMatchObject({ code: 'ADMIN_UNREACHABLE', message: denied });
      return;
    }
    // From a copy anyone can read: the checkout may sit in a folder nobody cannot enter.
    const programs = await copyProgramsForAnyone();
    cleanups.push(() => programs.remove());
    const client = programs.path('packages/relay/dist/admin/admin-client.js');
    const script = `
      import { adminRequest } from ${JSON.stringify(client)};
      adminRequest(${JSON.stringify(socketPath)}, 'sessions').then(
        (r) => console.log('answered ' + JSON.stringify(r)),
        (e) => console.log(e.code + ': ' + e.message));`;
    expect(await runAsNobody(programs.node, script)).toBe(`ADMIN_UNREACHABLE: ${denied}`);
    // The same user gets in once the mode allows it: the refusal came from the mode.
    await chmod(socketPath, 0o666);
    expect(await runAsNobody(programs.node, script)).toBe('answered []');
  }, 30_000);
});
