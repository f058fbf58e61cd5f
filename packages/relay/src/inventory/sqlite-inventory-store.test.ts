import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeFor, isLifelineError } from '@lifeline/shared';
import type { InventoryStore } from './inventory-store.js';
import { describeInventoryStoreContract } from './inventory-store.contract.js';
import { SQLITE_SCHEMA_VERSION, SqliteInventoryStore } from './sqlite-inventory-store.js';

describeInventoryStoreContract('SqliteInventoryStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'inventory-'));
  const path = join(dir, 'inventory.db');
  const opened: InventoryStore[] = [SqliteInventoryStore.open(path)];
  return {
    store: opened[0]!,
    reopen: () => {
      const store = SqliteInventoryStore.open(path);
      opened.push(store);
      return Promise.resolve(store);
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteInventoryStore files', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inventory-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('creates the database and its WAL file with mode 0600, and tightens a looser existing file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'inventory.db');
    const store = SqliteInventoryStore.open(path);
    await store.putUser({ name: 'alice', authorizedKeys: [], role: 'engineer', devices: [], deviceLabels: [] });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(`${path}-wal`)).mode & 0o777).toBe(0o600);
    await store.close();

    const loose = join(dir, 'loose.db');
    await writeFile(loose, '', { mode: 0o644 });
    await chmod(loose, 0o644);
    await SqliteInventoryStore.open(loose).close();
    expect((await stat(loose)).mode & 0o777).toBe(0o600);
  });

  it('uses the WAL journal', async () => {
    const path = join(await tempDir(), 'inventory.db');
    await SqliteInventoryStore.open(path).close();
    const db = new DatabaseSync(path);
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    db.close();
  });

  it('refuses a database written by a newer relay with INVENTORY_SCHEMA_TOO_NEW (exit 78), naming the file', async () => {
    const path = join(await tempDir(), 'inventory.db');
    await SqliteInventoryStore.open(path).close();
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    let err: unknown;
    try {
      SqliteInventoryStore.open(path);
    } catch (e) {
      err = e;
    }
    expect(isLifelineError(err, 'INVENTORY_SCHEMA_TOO_NEW')).toBe(true);
    expect((err as Error).message).toContain(path);
    expect(exitCodeFor(err)).toBe(78);
  });

  it('says INVENTORY_UNAVAILABLE when the file cannot be created', async () => {
    const path = join(await tempDir(), 'no-such-folder', 'inventory.db');
    expect(() => SqliteInventoryStore.open(path)).toThrow(expect.objectContaining({ code: 'INVENTORY_UNAVAILABLE' }));
  });
});

describe('SqliteInventoryStore after a SIGKILL mid-write', () => {
  it('opens consistent, with every change it acknowledged, after its writer is killed in a write loop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inventory-kill-'));
    try {
      const path = join(dir, 'inventory.db');
      const storeModule = new URL('../../dist/inventory/sqlite-inventory-store.js', import.meta.url).href;
      // Each round replaces a person (a large document) and adds a token: two tables, many pages.
      const writer = `
        const { SqliteInventoryStore } = await import(${JSON.stringify(storeModule)});
        const store = SqliteInventoryStore.open(${JSON.stringify(path)});
        for (let i = 0; ; i++) {
          await store.putUser({ name: 'u' + (i % 50), authorizedKeys: ['x'.repeat(20000) + i], role: 'engineer', devices: [], deviceLabels: [] });
          await store.addToken({ deviceId: 'd', tokenHash: 'h' + i, createdAt: i, expiresAt: i + 1, createdBy: 'kill-test' });
          process.stdout.write(i + '\\n');
        }
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', writer], { stdio: ['ignore', 'pipe', 'inherit'] });
      let acknowledged = -1;
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`writer ended by itself (exit ${code})`)));
        child.stdout.on('data', (chunk: Buffer) => {
          const lines = chunk.toString().trim().split('\n');
          acknowledged = Number(lines[lines.length - 1]);
          if (acknowledged >= 300) resolve();
        });
      });
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      const db = new DatabaseSync(path);
      expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
      const tokens = (db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number }).n;
      db.close();
      const store = SqliteInventoryStore.open(path);
      const { users } = await store.load();
      await store.close();
      expect(users).toHaveLength(50);
      for (const user of users) expect(user.authorizedKeys[0]).toMatch(/^x{20000}\d+$/);
      // Everything acknowledged is there; at most the round in flight was lost or landed.
      expect(tokens).toBeGreaterThanOrEqual(acknowledged + 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
