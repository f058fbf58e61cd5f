import { execFile } from 'node:child_process';
import { access, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@lifeline/shared/testing';

const run = promisify(execFile);

/** Debian's `postgresql` package (15); .ci/run installs it. */
export const POSTGRES_BIN = process.env.LIFELINE_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/** The connection part of the store's options, as a test server gives it. */
export interface StoreConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: undefined;
  ssl: false;
  connectTimeoutMs: number;
}

/** A throwaway PostgreSQL server on 127.0.0.1 for tests: trust auth, user `postgres`. */
export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: 'postgres';
  /** Makes an empty database and returns its name. */
  createDatabase(): Promise<string>;
  /** How the relay's store reaches `database` on this server (PostgresInventoryOptions without the logger). */
  connection(database: string): StoreConnection;
  /** Stops the server (fast shutdown: connections are cut); `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

/**
 * Starts a real PostgreSQL: `initdb` into a temporary folder, listening on 127.0.0.1 on a free
 * port, its Unix socket in that folder. PostgreSQL refuses to run as root, so under root the
 * programs run as the `postgres` user (runuser), as PEERS.md describes. A missing PostgreSQL
 * throws, naming the package: the tests that need it fail, never skip.
 */
export async function startPostgres(): Promise<PostgresServer> {
  try {
    await access(join(POSTGRES_BIN, 'initdb'));
  } catch {
    throw new Error(`PostgreSQL is not installed (no ${POSTGRES_BIN}/initdb): apt-get install postgresql (.ci/run does)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'lifeline-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pgRun = (program: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(POSTGRES_BIN, program), ...args]) : run(join(POSTGRES_BIN, program), args);
  const data = join(dir, 'data');
  const port = await freePort();
  await pgRun('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const pgCtl = (action: 'start' | 'stop') =>
    action === 'start'
      ? pgRun('pg_ctl', [
          '-D',
          data,
          '-o',
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
          '-l',
          join(dir, 'pg.log'),
          '-w',
          '-t',
          '30',
          'start',
        ])
      : pgRun('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
  const withLog = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (err) {
      const log = await readFile(join(dir, 'pg.log'), 'utf8').catch(() => '');
      throw new Error(`PostgreSQL ${what} failed: ${(err as Error).message}\n${log.slice(-2000)}`, { cause: err });
    }
  };
  await withLog('start', () => pgCtl('start'));
  let databases = 0;
  let running = true;
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    async createDatabase() {
      const name = `lifeline_test_${++databases}`;
      await run(join(POSTGRES_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name]);
      return name;
    },
    connection: (database) => ({
      host: '127.0.0.1',
      port,
      database,
      user: 'postgres',
      password: undefined,
      ssl: false,
      connectTimeoutMs: 5_000,
    }),
    async stop() {
      await withLog('stop', () => pgCtl('stop'));
      running = false;
    },
    async start() {
      await withLog('start', () => pgCtl('start'));
      running = true;
    },
    async destroy() {
      if (running) await pgCtl('stop').catch(() => undefined);
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
