import { link, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@lifeline/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminRequest } from './admin-client.js';
import { startAdminServer, type AdminHandler, type AdminServer } from './admin-server.js';

let dir: string;
let socketPath: string;
const servers: AdminServer[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'admin-'));
  socketPath = join(dir, 'relay.sock');
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function start(handlers: Record<string, AdminHandler> = { sessions: () => [] }, path = socketPath, idleTimeoutMs?: number) {
  const server = await startAdminServer({ socketPath: path, handlers, logger: silentLogger(), idleTimeoutMs, maxQueuedBytes: 1_048_576 });
  servers.push(server);
  return server;
}

/** Sends raw bytes on a fresh connection; resolves with the lines received and whether the relay closed it. */
function exchange(text: string | Buffer, expectedLines: number): Promise<{ lines: string[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let received = '';
    const lines = () => received.split('\n').filter((l) => l !== '');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ lines: lines(), closed: false });
    }, 2_000);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      // Wait a little longer after the expected answers to see whether the relay hangs up.
      if (lines().length >= expectedLines) setTimeout(() => socket.destroy(), 300).unref();
    });
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ lines: lines(), closed: true });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ lines: lines(), closed: false });
    });
    socket.on('error', reject);
  });
}

describe('admin server', () => {
  it('answers a command with its result under the command name, over a real Unix socket', async () => {
    const sessions = [
      { deviceId: 'rtr-tokyo-01', writer: 'alice', viewers: ['bob'], since: '2026-01-01T00:00:00.000Z', bytesIn: 5, bytesOut: 9 },
    ];
    await start({ sessions: () => sessions });
    expect(await adminRequest(socketPath, 'sessions')).toEqual(sessions);
    const { lines } = await exchange('{"command":"sessions"}\n', 1);
    expect(JSON.parse(lines[0]!)).toEqual({ ok: true, sessions });
  });

  it('creates the socket with mode 0600 and leaves no temporary folder behind', async () => {
    await start();
    const info = await stat(socketPath);
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['relay.sock']);
  });

  it('hands the whole request to the handler and waits for an async one', async () => {
    const seen: unknown[] = [];
    await start({
      power: async (request) => {
        seen.push(request);
        await new Promise((resolve) => setTimeout(resolve, 10));
        return { done: true };
      },
    });
    expect(await adminRequest(socketPath, { command: 'power', device: 'r1', action: 'cycle' })).toEqual({ done: true });
    expect(seen).toEqual([{ command: 'power', device: 'r1', action: 'cycle' }]);
  });

  it('answers an unknown command with an error naming the known ones, and keeps the connection', async () => {
    await start({ sessions: () => [], devices: () => [] });
    const { lines, closed } = await exchange('{"command":"reboot"}\n{"command":"toString"}\n{"command":"sessions"}\n', 3);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { ok: false, error: 'unknown command "reboot" (known: devices, sessions)' },
      { ok: false, error: 'unknown command "toString" (known: devices, sessions)' },
      { ok: true, sessions: [] },
    ]);
    expect(closed).toBe(false);
  });

  it('answers garbage with an error and closes the connection', async () => {
    await start();
    for (const garbage of ['hello\n', '[1,2]\n', '{"cmd":"sessions"}\n', '"sessions"\n']) {
      const { lines, closed } = await exchange(`${garbage}{"command":"sessions"}\n`, 1);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ ok: false, error: expect.stringMatching(/not a request/) });
      expect(closed).toBe(true);
    }
  });

  it('refuses a request line longer than the bound and closes the connection', async () => {
    await start();
    const { lines, closed } = await exchange(Buffer.alloc(100_000, 0x61), 1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ ok: false, error: expect.stringMatching(/too long/) });
    expect(closed).toBe(true);
  });

  it('answers a failing handler with its message', async () => {
    await start({
      sessions: () => {
        throw new Error('hub is busy');
      },
    });
    await expect(adminRequest(socketPath, 'sessions')).rejects.toMatchObject({
      code: 'ADMIN_COMMAND_FAILED',
      message: 'the relay refused "sessions": hub is busy',
    });
  });

  it('removes a stale socket file left by a relay that died', async () => {
    // A hard link outlives the listener that made it: a socket file nobody answers on.
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(join(dir, 'old.sock'), resolve));
    await link(join(dir, 'old.sock'), socketPath);
    await new Promise((resolve) => other.close(resolve));
    expect((await stat(socketPath)).isSocket()).toBe(true);
    await start({ sessions: () => ['fresh'] });
    expect(await adminRequest(socketPath, 'sessions')).toEqual(['fresh']);
  });

  it('does not take over the socket of a relay that is running', async () => {
    await start({ sessions: () => ['first'] });
    await expect(start({ sessions: () => ['second'] })).rejects.toMatchObject({ code: 'ADMIN_SOCKET_IN_USE' });
    expect(await adminRequest(socketPath, 'sessions')).toEqual(['first']);
  });

  it('refuses to replace a file that is not a socket', async () => {
    await writeFile(socketPath, 'precious');
    await expect(start()).rejects.toMatchObject({ code: 'ADMIN_SOCKET_FAILED', message: expect.stringMatching(/not a socket/) });
    expect(await readFile(socketPath, 'utf8')).toBe('precious');
  });

  it('refuses a path too long for a Unix socket instead of binding a cut one', async () => {
    const long = join(dir, 'x'.repeat(120));
    await expect(start(undefined, long)).rejects.toMatchObject({ code: 'ADMIN_SOCKET_FAILED', message: expect.stringMatching(/too long/) });
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes the socket on close, once, and then nobody answers', async () => {
    const server = await start();
    await server.close();
    await server.close();
    await expect(stat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(adminRequest(socketPath, 'sessions')).rejects.toMatchObject({
      code: 'ADMIN_UNREACHABLE',
      message: `no relay is running with admin socket ${socketPath} (is the path right?)`,
    });
  });

  it('on close, leaves alone a newer relay socket at the same path', async () => {
    const old = await start({ sessions: () => ['old'] });
    await unlink(socketPath);
    await start({ sessions: () => ['new'] });
    await old.close();
    expect(await adminRequest(socketPath, 'sessions')).toEqual(['new']);
  });

  it('closes connections that stay silent', async () => {
    await start(undefined, socketPath, 100);
    const { closed } = await exchange('', 0);
    expect(closed).toBe(true);
  });
});
