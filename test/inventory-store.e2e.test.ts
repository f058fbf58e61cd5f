import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { freePort } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { relayBin } from './support/lifeline-process.js';
import { makeTempDir } from './support/temp-dir.js';

// The relay's inventory store at start: what an operator sees when the database is the problem.

let dir: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  dir = await makeTempDir('e2e-store');
});
afterEach(async () => {
  await dir.remove();
});

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [relayBin, ...args], { cwd: dir.path, timeout: 20_000, env: { ...process.env, ...env } });
  return { code: result.status, err: result.stderr.toString() };
}

async function relayYaml(lines: string[]): Promise<string> {
  const file = join(dir.path, 'relay.yaml');
  await writeFile(file, ['listen: { host: 127.0.0.1, port: 0 }', 'stateDir: state', 'adminSocket: relay.sock', ...lines, ''].join('\n'));
  return file;
}

describe('the relay start and its inventory store', () => {
  it('says in one line that PostgreSQL is unreachable and exits 69, never showing the password', async () => {
    const port = await freePort();
    const file = await relayYaml([`store: { type: postgres, host: 127.0.0.1, port: ${port}, connectTimeoutMs: 2000 }`]);
    const { code, err } = run(['run', '--config', file], { LIFELINE_PG_PASSWORD: 'pw-from-env' });
    expect(code).toBe(69);
    expect(err).toMatch(new RegExp(`^lifeline-relay: ${file}: store: PostgreSQL lifeline@127\\.0\\.0\\.1:${port}/lifeline: .+\\n$`));
    expect(err).not.toContain('pw-from-env');
  });

  it('refuses a password file others may read, at check and at start, exit 78', async () => {
    await writeFile(join(dir.path, 'pg-password'), 'secret\n', { mode: 0o644 });
    const file = await relayYaml(['store: { type: postgres, host: 127.0.0.1, passwordFile: pg-password }']);
    for (const command of ['check', 'run']) {
      const { code, err } = run([command, '--config', file]);
      expect(code).toBe(78);
      expect(err).toBe(
        `lifeline-relay: ${file}: store.passwordFile: password file ${join(dir.path, 'pg-password')} has mode 644; it must not be readable by group or others (chmod 600 ${join(dir.path, 'pg-password')})\n`,
      );
    }
  });

  it('refuses to start on an inventory written by a newer relay, in one line, exit 78', async () => {
    const file = await relayYaml([]);
    await mkdir(join(dir.path, 'state'), { mode: 0o700 });
    const db = new DatabaseSync(join(dir.path, 'state', 'inventory.db'));
    db.exec('PRAGMA user_version = 99');
    db.close();
    const { code, err } = run(['run', '--config', file]);
    expect(code).toBe(78);
    expect(err).toMatch(
      /^lifeline-relay: .*relay\.yaml: store\.file: inventory database .*inventory\.db has schema version 99, newer than this relay knows \(1\).*\n$/,
    );
  });
});
