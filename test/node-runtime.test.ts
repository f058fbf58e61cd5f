import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findNode } from '../scripts/node-runtime.mjs';
import { agentBin, nodeFor, relayBin } from './support/lifeline-process.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

const withNode = fileURLToPath(new URL('../scripts/with-node.mjs', import.meta.url));
const major = (version: string): number => Number(version.replace(/^v/, '').split('.')[0]);
const run = (node: string, args: string[]) => spawnSync(node, args, { encoding: 'utf8', timeout: 30_000 });

describe('which Node.js runs what', () => {
  it('runs this test file on the Node.js its vitest project names', () => {
    // test/vitest.config.ts runs every file on 24 and the agent's and shared's again on 20.
    expect(process.env.LIFELINE_TEST_NODE).toMatch(/^(20|24)$/);
    expect(major(process.version)).toBe(Number(process.env.LIFELINE_TEST_NODE));
  });

  it('finds Node.js 24 and a Node.js 20 no older than 20.19 (Debian trixie), both runnable', () => {
    const node24 = findNode(24);
    const node20 = findNode(20);
    expect(node24.problem).toBeUndefined();
    expect(node20.problem).toBeUndefined();
    expect(run(node24.path!, ['--version']).stdout.trim()).toBe(node24.version);
    expect(node24.version).toMatch(/^v24\./);
    expect(run(node20.path!, ['--version']).stdout.trim()).toBe(node20.version);
    expect(node20.version).toMatch(/^v20\.(19|[2-9]\d)\./);
  });

  it('names what is missing in one line when a checkout has no Node.js of a major', async () => {
    const dir = await makeTempDir('node-runtime');
    const other = major(process.version) === 24 ? 20 : 24;
    const lookup = findNode(other, dir.path);
    await dir.remove();
    expect(lookup.path).toBeUndefined();
    expect(lookup.problem).toMatch(
      new RegExp(`^Node\\.js ${other} not found: .*node_modules/node(20)?-linux-${process.arch} is missing; run \`npm ci\``),
    );
    expect(lookup.problem).not.toContain('\n');
  });

  it("starts end-to-end agents on Node.js 20 and relays on the test's own Node.js", () => {
    expect(run(nodeFor(agentBin), ['--version']).stdout).toMatch(/^v20\./);
    expect(run(nodeFor(relayBin), ['--version']).stdout.trim()).toBe(process.version);
  });
});

describe('scripts/with-node.mjs', () => {
  it.each([20, 24])('runs a script on Node.js %i whatever Node.js starts it', (wanted) => {
    const r = run(process.execPath, [withNode, String(wanted), '-p', 'process.version']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(major(r.stdout.trim())).toBe(wanted);
  });

  it("passes on the script's exit status", () => {
    expect(run(process.execPath, [withNode, '24', '-e', 'process.exit(78)']).status).toBe(78);
  });

  it('passes a SIGTERM sent to it alone on to the script, and exits as the script does', async () => {
    const script =
      "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(3); }); console.log('ready'); setInterval(() => {}, 1000);";
    const child = spawn(process.execPath, [withNode, '24', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor('the script to start', () => out.includes('ready'));
    child.kill('SIGTERM');
    expect(await exited).toBe(3);
    expect(out).toBe('ready\ngot SIGTERM\n');
  });

  it('refuses an unsupported major with a usage line and exit status 64', () => {
    const r = run(process.execPath, [withNode, '18', '-p', '1']);
    expect(r.status).toBe(64);
    expect(r.stderr).toBe('usage: with-node.mjs 20|24 SCRIPT [ARG...]\n');
  });
});
