import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

/**
 * The module URLs a fresh Node.js (`node`, the one running the tests unless given) resolves while
 * it runs `args`, recorded by a module resolve hook registered before anything else loads. For
 * tests that keep a daemon's module graph small (issue 11: zod, yaml, pg out of the daemons).
 * `args` must make the program exit by itself (within 20 s).
 */
export async function modulesLoadedBy(args: string[], node: string = process.execPath): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'loaded-modules-'));
  try {
    const out = join(dir, 'modules.txt');
    await writeFile(out, '');
    await writeFile(join(dir, 'hooks.mjs'), HOOKS);
    const register = join(dir, 'register.mjs');
    await writeFile(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)}, { data: { out: process.env.MODULES_OUT } });\n`,
    );
    await run(node, ['--import', pathToFileURL(register).href, ...args], { env: { ...process.env, MODULES_OUT: out }, timeout: 20_000 });
    return (await readFile(out, 'utf8')).split('\n').filter(Boolean);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The npm package a module URL belongs to (`@scope/name` or `name`), undefined for the project's own files and Node's. */
export const packageOfUrl = (url: string): string | undefined => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
