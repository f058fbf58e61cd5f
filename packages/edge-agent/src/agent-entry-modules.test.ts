import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 11: the agent's main process must not load zod or yaml (6-13 MiB of RSS, docs/benchmarks.md
// "Edge agent memory"); its config files are read and checked by the config reader process. This
// runs the agent's real entry (dist/main.js, built by `tsc -b`) in a fresh Node.js, the one running
// the tests (20 and 24), with a module hook that records every module URL it resolves.

const run = promisify(execFile);
const agentMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Resolve hook (runs on the hooks thread): appends each resolved URL to the file in `data.out`. */
const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(out, resolved.url + '\\n');
  return resolved;
}
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-modules-'));
  await writeFile(join(dir, 'hooks.mjs'), HOOKS);
  await writeFile(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)}, { data: { out: process.env.MODULES_OUT } });\n`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The module URLs a fresh Node.js resolves running `args` (after the recording hook). */
async function modulesLoadedBy(name: string, args: string[]): Promise<string[]> {
  const out = join(dir, `${name}.txt`);
  await writeFile(out, '');
  await run(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, ...args], {
    env: { ...process.env, MODULES_OUT: out },
    timeout: 20_000,
  });
  return (await readFile(out, 'utf8')).split('\n').filter(Boolean);
}

const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

describe("the edge agent's main process", () => {
  it('loads neither zod nor yaml: its whole static module graph, run as lifeline-agent --version', async () => {
    const urls = await modulesLoadedBy('agent', [agentMain, '--version']);
    const packages = new Set(urls.map(packageOf).filter(Boolean));
    // The hook saw the agent's graph: the shared agent entry and the packages the agent does use.
    expect(urls.some((u) => u.includes('/packages/shared/dist/agent.js'))).toBe(true);
    expect(packages).toContain('pino');
    expect(packages).toContain('ssh2');
    expect([...packages].filter((p) => p === 'zod' || p === 'yaml')).toEqual([]);
  });

  it('the same check finds zod and yaml behind the full @lifeline/shared entry (what the ESLint rule keeps out)', async () => {
    const urls = await modulesLoadedBy('full', ['--input-type=module', '-e', "import '@lifeline/shared';"]);
    const packages = new Set(urls.map(packageOf));
    expect(packages).toContain('zod');
    expect(packages).toContain('yaml');
  });
});
