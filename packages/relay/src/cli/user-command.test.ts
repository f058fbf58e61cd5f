import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { relayConfigSchema } from '@lifeline/shared';
import { capturedLogger } from '@lifeline/shared/testing';
import { startAdminServer, type AdminServer } from '../admin/admin-server.js';
import { declaredInConfig, inventoryAdminHandlers } from '../inventory/inventory-admin.js';
import { SqliteInventoryStore } from '../inventory/sqlite-inventory-store.js';
import { verifyPassword } from '../ssh/password-hash.js';
import { runDevice } from './device-command.js';
import { runUser } from './user-command.js';

const config = relayConfigSchema.parse({
  users: [{ name: 'carol', authorizedKeys: ['ssh-ed25519 AAAAcarol'], devices: ['rtr-1'] }],
  devices: [{ id: 'rtr-1', agentKey: 'ssh-ed25519 AAAAagent' }],
});

describe('lifeline-relay user and device, against a relay admin socket and a real store', () => {
  let dir: string;
  let store: SqliteInventoryStore;
  let admin: AdminServer;
  let logs: Array<Record<string, unknown>>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'user-cmd-'));
    store = SqliteInventoryStore.open(join(dir, 'inventory.db'));
    const captured = capturedLogger();
    logs = captured.lines;
    admin = await startAdminServer({
      socketPath: join(dir, 'relay.sock'),
      handlers: { ...inventoryAdminHandlers({ store, declared: () => declaredInConfig(config, 'relay.yaml'), logger: captured.logger }) },
      logger: captured.logger,
      maxQueuedBytes: 1 << 20,
    });
  });
  afterEach(async () => {
    await admin.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(command: 'user' | 'device', args: string[], stdin = '') {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => err.push(c));
    const io = { stdout, stderr, stdin: Readable.from([Buffer.from(stdin)]) };
    const code = await (command === 'user' ? runUser(args, io) : runDevice(args, io));
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }
  const at = () => ['--socket', join(dir, 'relay.sock')];

  it('adds a person with a password read from stdin; only its scrypt hash is stored, and never logged', async () => {
    const added = await run('user', ['add', 'dave', '--device', 'rtr-1', '--role', 'supervisor', ...at()], 'correct horse\n');
    expect(added).toMatchObject({ code: 0, stdout: 'added dave\n' });
    const [dave] = (await store.load()).users;
    expect(dave).toMatchObject({ name: 'dave', role: 'supervisor', devices: ['rtr-1'] });
    expect(await verifyPassword('correct horse', dave!.passwordHash!)).toBe(true);
    expect(JSON.stringify(logs)).not.toContain('correct horse');
    expect(JSON.stringify(logs)).not.toContain(dave!.passwordHash!);
    expect(logs.find((l) => l.event === 'inventory.user-added')).toMatchObject({ user: 'dave', by: expect.stringMatching(/^os:/) });
  });

  it('changes the password and the role, lists, and removes', async () => {
    await run('user', ['add', 'dave', '--device', 'rtr-1', ...at()], 'first\n');
    expect((await run('user', ['passwd', 'dave', ...at()], 'second\n')).code).toBe(0);
    expect(await verifyPassword('second', (await store.load()).users[0]!.passwordHash!)).toBe(true);
    expect(await run('user', ['set-role', 'dave', 'admin', ...at()])).toMatchObject({ code: 0, stdout: 'dave is now admin\n' });
    const list = await run('user', ['list', ...at()]);
    expect(list.stdout).toMatch(/^carol\s+engineer\s+rtr-1\s+no\s+1\s+relay\.yaml$/m);
    expect(list.stdout).toMatch(/^dave\s+admin\s+rtr-1\s+yes\s+0\s+store$/m);
    expect((await run('user', ['remove', 'dave', ...at()])).code).toBe(0);
    expect((await store.load()).users).toEqual([]);
    expect(await run('user', ['remove', 'dave', ...at()])).toMatchObject({ code: 1, stderr: expect.stringContaining('no user dave') });
  });

  it('refuses people and devices declared in relay.yaml, saying to edit relay.yaml', async () => {
    for (const result of [
      await run('user', ['add', 'carol', '--device', 'rtr-1', ...at()], 'pw\n'),
      await run('user', ['set-role', 'carol', 'admin', ...at()]),
      await run('device', ['remove', 'rtr-1', ...at()]),
    ]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/is declared in relay\.yaml: edit relay\.yaml/);
    }
    expect(await store.load()).toEqual({ users: [], devices: [], agents: [] });
  });

  it('refuses an empty password, a bad role and a password given as an argument', async () => {
    expect((await run('user', ['add', 'dave', '--device', 'rtr-1', ...at()], '\n')).code).toBe(1);
    expect((await run('user', ['add', 'dave', '--device', 'rtr-1', '--role', 'god', ...at()], 'pw\n')).stderr).toMatch(/role/);
    expect((await run('user', ['add', 'dave', '--password', 'pw', ...at()])).code).toBe(64);
    expect((await store.load()).users).toEqual([]);
  });

  it('adds, labels, lists and removes devices', async () => {
    expect((await run('device', ['add', 'sw-2', '--label', 'site=tokyo', '--description', 'a switch', ...at()])).code).toBe(0);
    expect(await run('device', ['label', 'sw-2', 'kind=switch', 'site=', ...at()])).toMatchObject({
      code: 0,
      stdout: 'sw-2: kind=switch\n',
    });
    expect((await store.load()).devices).toEqual([{ id: 'sw-2', labels: { kind: 'switch' }, description: 'a switch' }]);
    const list = await run('device', ['list', ...at()]);
    expect(list.stdout).toMatch(/^rtr-1\s+-\s+-\s+relay\.yaml/m);
    expect(list.stdout).toMatch(/^sw-2\s+kind=switch\s+-\s+store\s+a switch$/m);
    expect((await run('device', ['remove', 'sw-2', ...at()])).code).toBe(0);
    expect((await store.load()).devices).toEqual([]);
  });
});
