import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modulesLoadedBy, packageOfUrl } from '@lifeline/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 11: the relay daemon's main process loads neither the config schemas (zod, yaml) nor
// PostgreSQL's client unless it uses them: relay.yaml is read and checked by the config reader
// process, the command-line tools are loaded when they run, the PostgreSQL store and the relay
// group when relay.yaml asks for them. This runs the relay's real entry (dist/main.js, built by
// `tsc -b`) in a fresh Node.js with a module hook that records every module URL it resolves.

const relayMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const NOT_IN_THE_DAEMON = ['zod', 'yaml', 'pg'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relay-modules-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the relay daemon's main process", () => {
  it('loads neither zod, yaml nor pg: its whole static module graph, run as lifeline-relay --version', async () => {
    const urls = await modulesLoadedBy([relayMain, '--version']);
    const packages = new Set(urls.map(packageOfUrl).filter(Boolean));
    // The hook saw the daemon's graph: the lean shared entry, the SSH server and the packages it uses.
    expect(urls.some((u) => u.includes('/packages/shared/dist/core.js'))).toBe(true);
    expect(urls.some((u) => u.includes('/packages/relay/dist/relay.js'))).toBe(true);
    expect(packages).toContain('ssh2');
    expect([...packages].filter((p) => NOT_IN_THE_DAEMON.includes(p!))).toEqual([]);
  });

  it('nor when it checks a relay.yaml the way a start does (lifeline-relay check)', async () => {
    const config = join(dir, 'relay.yaml');
    await writeFile(config, `listen: { host: 127.0.0.1, port: 0 }\nstateDir: ${dir}/state\nadminSocket: ${dir}/relay.sock\n`);
    const urls = await modulesLoadedBy([relayMain, 'check', '--config', config]);
    expect(urls.some((u) => u.includes('/packages/relay/dist/relay-preflight.js'))).toBe(true);
    expect([...new Set(urls.map(packageOfUrl))].filter((p) => NOT_IN_THE_DAEMON.includes(p!))).toEqual([]);
  });

  it('a command-line tool does load the schemas (what the check above would see if the daemon did)', async () => {
    const urls = await modulesLoadedBy([relayMain, 'recordings', '--help']);
    expect(new Set(urls.map(packageOfUrl))).toContain('zod');
  });
});
