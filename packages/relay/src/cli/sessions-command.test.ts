import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '@lifeline/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../admin/admin-server.js';
import type { SessionSnapshot } from '../session/session-snapshot.js';
import { runSessions } from './sessions-command.js';

const NOW = Date.parse('2026-11-21T03:00:00.000Z');
const live: SessionSnapshot[] = [
  { deviceId: 'rtr-tokyo-01', writer: 'alice', viewers: ['bob'], since: '2026-11-21T02:54:48.000Z', bytesIn: 12, bytesOut: 2048 },
];

let dir: string;
let server: AdminServer | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sessions-cmd-'));
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function serve(sessions: unknown, socketPath = join(dir, 'relay.sock')): Promise<string> {
  server = await startAdminServer({
    socketPath,
    handlers: { sessions: () => sessions },
    logger: silentLogger(),
    maxQueuedBytes: 1_048_576,
  });
  return socketPath;
}

async function sessions(...args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runSessions(args, { stdout, stderr, now: () => NOW });
  return { code, out, err };
}

describe('lifeline-relay sessions', () => {
  it('prints the running relay sessions as a table, asking on --socket', async () => {
    const socket = await serve(live);
    expect(await sessions('--socket', socket)).toEqual({
      code: 0,
      out: 'DEVICE        WRITER  VIEWERS  SINCE  IN   OUT\nrtr-tokyo-01  alice   bob      5m12s  12B  2.0K\n',
      err: '',
    });
  });

  it('finds the socket from adminSocket in --config, inside stateDir (relative to the config file)', async () => {
    await mkdir(join(dir, 'conf', 'state'), { recursive: true });
    await serve(live, join(dir, 'conf', 'state', 'admin.sock'));
    const config = join(dir, 'conf', 'relay.yaml');
    await writeFile(config, 'stateDir: state\nadminSocket: admin.sock\n');
    const { code, out } = await sessions('--config', config);
    expect(code).toBe(0);
    expect(out).toContain('rtr-tokyo-01');
  });

  it('prints JSON with --json', async () => {
    const socket = await serve(live);
    const { code, out } = await sessions('--socket', socket, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(live);
  });

  it('says there are no live sessions', async () => {
    const socket = await serve([]);
    expect(await sessions('--socket', socket)).toMatchObject({ code: 0, out: 'no live sessions\n' });
  });

  it('exits 1 with a clear message when no relay is running there', async () => {
    const socket = join(dir, 'nothing.sock');
    expect(await sessions('--socket', socket)).toEqual({
      code: 1,
      out: '',
      err: `sessions: no relay is running with admin socket ${socket} (is the path right?)\n`,
    });
  });

  it('exits 1 when the answer is not a list of sessions', async () => {
    const socket = await serve([{ device: 'x' }]);
    expect(await sessions('--socket', socket)).toMatchObject({ code: 1, err: expect.stringMatching(/something else than a list/) });
  });

  it('exits 78 for a bad config, naming the problem', async () => {
    const config = join(dir, 'relay.yaml');
    await writeFile(config, 'adminSocket: 5\n');
    const { code, err } = await sessions('--config', config);
    expect(code).toBe(78);
    expect(err).toMatch(/adminSocket/);
  });

  it('asks /run/lifeline/relay.sock without --config or --socket', async () => {
    const { code, err } = await sessions();
    expect(code).toBe(1);
    expect(err).toMatch(/admin socket \/run\/lifeline\/relay\.sock/);
  });

  it('exits 64 for unknown flags or both --config and --socket', async () => {
    expect(await sessions('--sockett', 'x')).toMatchObject({ code: 64, err: expect.stringMatching(/Usage/) });
    expect(await sessions('--config', 'a.yaml', '--socket', 'b.sock')).toMatchObject({ code: 64, err: expect.stringMatching(/not both/) });
  });
});
