import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeFor, relayConfigSchema } from '@lifeline/shared';
import { capturedLogger, freePort } from '@lifeline/shared/testing';
import { openInventoryStore } from './open-inventory-store.js';
import { PG_PASSWORD_ENV, readPostgresPassword } from './postgres-password.js';

describe('openInventoryStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'open-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: unknown) => err as Error,
    );

  it('opens SQLite in the state folder by default, making the folder 0700', async () => {
    const file = join(dir, 'relay.yaml');
    const store = await openInventoryStore(relayConfigSchema.parse({ stateDir: 'state' }), file, capturedLogger().logger);
    expect(store.kind).toBe('sqlite');
    await store.close();
    expect((await stat(join(dir, 'state'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'state', 'inventory.db'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a password file group or others may read, in one line naming relay.yaml, the key and the file (exit 78)', async () => {
    const secret = join(dir, 'pg-password');
    await writeFile(secret, 'hunter2\n');
    await chmod(secret, 0o640);
    const config = relayConfigSchema.parse({ store: { type: 'postgres', host: '127.0.0.1', passwordFile: 'pg-password' } });
    const err = await failure(openInventoryStore(config, join(dir, 'relay.yaml'), capturedLogger().logger));
    expect(err?.message).toBe(
      `${join(dir, 'relay.yaml')}: store.passwordFile: password file ${secret} has mode 640; it must not be readable by group or others (chmod 600 ${secret})`,
    );
    expect(exitCodeFor(err)).toBe(78);
  });

  it('says an unreachable PostgreSQL in one line naming relay.yaml and store, exit 69, never the password', async () => {
    const port = await freePort();
    const config = relayConfigSchema.parse({ store: { type: 'postgres', host: '127.0.0.1', port } });
    const err = await failure(
      openInventoryStore(config, join(dir, 'relay.yaml'), capturedLogger().logger, { [PG_PASSWORD_ENV]: 'pw-in-env' }),
    );
    expect(err?.message).toMatch(new RegExp(`^${join(dir, 'relay.yaml')}: store: PostgreSQL lifeline@127\\.0\\.0\\.1:${port}/lifeline: `));
    expect(err?.message).not.toContain('pw-in-env');
    expect(err?.message).not.toContain('\n');
    expect(exitCodeFor(err)).toBe(69);
  });
});

describe('readPostgresPassword', () => {
  it('reads the first line of a 0600 file, or the env, or nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgpw-'));
    try {
      const file = join(dir, 'pw');
      await writeFile(file, 'first line\nsecond\n', { mode: 0o600 });
      expect(await readPostgresPassword(file, { [PG_PASSWORD_ENV]: 'env' })).toBe('first line');
      expect(await readPostgresPassword(undefined, { [PG_PASSWORD_ENV]: 'env' })).toBe('env');
      expect(await readPostgresPassword(undefined, {})).toBeUndefined();
      await expect(readPostgresPassword(join(dir, 'missing'), {})).rejects.toThrow(/password file .*missing does not exist/);
      await writeFile(join(dir, 'empty'), '', { mode: 0o600 });
      await expect(readPostgresPassword(join(dir, 'empty'), {})).rejects.toThrow(/is empty/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
