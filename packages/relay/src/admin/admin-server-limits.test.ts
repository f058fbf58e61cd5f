import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@lifeline/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { adminRequest } from './admin-client.js';
import { startAdminServer, type AdminServer } from './admin-server.js';

let dir: string | undefined;
let server: AdminServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  server = dir = undefined;
});

const BOUND = 256 * 1024;
const ANSWER = 'x'.repeat(10_000);

async function startWithLogs() {
  dir = await mkdtemp(join(tmpdir(), 'admin-limits-'));
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const socketPath = join(dir, 'relay.sock');
  server = await startAdminServer({
    socketPath,
    handlers: { big: () => ANSWER },
    logger: createLogger({ svc: 'relay', version: 'test', level: 'debug', destination }),
    maxQueuedBytes: BOUND,
  });
  return { socketPath, logs, server };
}

describe('admin server against a client that does not read', () => {
  it('cuts off a client that sends many requests and never reads the answers, holding at most the bound and one answer for it, logged once', async () => {
    const { socketPath, logs, server: admin } = await startWithLogs();
    const client = createConnection(socketPath);
    sockets.push(client);
    client.pause(); // never reads
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    // 5,000 requests for 10 kB answers each: 50 MB of answers if the relay queued them all.
    const requests = '{"command":"big"}\n'.repeat(5_000);
    client.write(requests);
    client.on('error', () => undefined); // the relay hangs up on it

    let maxQueued = 0;
    const started = Date.now();
    while (admin.connections > 0 && Date.now() - started < 10_000) {
      maxQueued = Math.max(maxQueued, admin.queuedBytes());
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(admin.connections).toBe(0);
    expect(maxQueued).toBeLessThanOrEqual(BOUND + ANSWER.length + 1);
    const cut = logs.filter((l) => l.event === 'admin.slow-client');
    expect(cut).toHaveLength(1);
    expect(cut[0]).toMatchObject({ limit: BOUND });

    // Others are still served.
    expect(await adminRequest(socketPath, 'big')).toBe(ANSWER);
  });

  it('serves a client that reads, however many requests it sends at once', async () => {
    const { socketPath, logs } = await startWithLogs();
    const client = createConnection(socketPath);
    sockets.push(client);
    let answers = 0;
    const all = new Promise<void>((resolve) =>
      client.on('data', (chunk: Buffer) => {
        for (const byte of chunk) if (byte === 0x0a) answers++;
        if (answers === 500) resolve();
      }),
    );
    client.write('{"command":"big"}\n'.repeat(500));
    await all;
    expect(logs.filter((l) => l.event === 'admin.slow-client')).toHaveLength(0);
  });
});
