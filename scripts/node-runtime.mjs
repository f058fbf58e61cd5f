// Which Node.js binary runs what. The relay needs Node.js 24; the edge agent runs on Debian's own
// nodejs (20.19, as on Raspberry Pi OS) and on 24. `npm ci` brings both as exact-version optional
// dependencies (package.json: node-linux-<arch> at 24, node20-linux-<arch> an alias of
// node-linux-<arch> at 20.19), so a fresh machine needs nothing installed by hand. The Node.js
// running this file is used instead when it is already the major asked for.
//
// Plain JavaScript (with node-runtime.d.mts beside it), because it runs before anything is built:
// scripts/with-node.mjs uses it, and so does test/vitest.config.ts.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Per supported major: the oldest release lifeline supports, and the npm package that bundles it. */
const runtimes = {
  20: { minimum: [20, 19, 0], bundle: 'node20-linux' },
  24: { minimum: [24, 0, 0], bundle: 'node-linux' },
};

/** Supported majors, oldest first. */
export const nodeMajors = Object.keys(runtimes).map(Number);

const parse = (version) => version.replace(/^v/, '').split('.').map(Number);
const atLeast = (have, want) => {
  for (let i = 0; i < want.length; i++) if ((have[i] ?? 0) !== want[i]) return (have[i] ?? 0) > want[i];
  return true;
};

/**
 * The Node.js binary for `major`: this process's own when it is that major (and new enough), else
 * the one `npm ci` bundled for this machine's architecture, after checking that it runs and
 * reports that major.
 * @param root the checkout whose node_modules to look in (tests point it elsewhere)
 * @returns `{ path, version }`, or `{ problem }`: one line saying what is missing and what to do.
 */
export function findNode(major, root = repoRoot) {
  const runtime = runtimes[major];
  if (!runtime) return { problem: `Node.js ${major} is not one lifeline uses (${nodeMajors.join(', ')})` };
  const wanted = runtime.minimum.join('.');
  const current = parse(process.version);
  if (current[0] === major && atLeast(current, runtime.minimum)) return { path: process.execPath, version: process.version };

  const pkg = `${runtime.bundle}-${process.arch}`;
  const path = join(root, 'node_modules', pkg, 'bin', 'node');
  const fix = `run \`npm ci\` on linux x64 or arm64 (it installs ${pkg}), or use Node.js ${wanted} or a later ${major}.x`;
  if (!existsSync(path))
    return {
      problem: `Node.js ${major} not found: this is Node.js ${process.version} on ${process.platform} ${process.arch} and node_modules/${pkg} is missing; ${fix}`,
    };
  let version;
  try {
    version = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (err) {
    return { problem: `Node.js ${major} at node_modules/${pkg} does not run (${err.code ?? err.message}); ${fix}` };
  }
  const have = parse(version);
  if (have[0] !== major || !atLeast(have, runtime.minimum))
    return { problem: `node_modules/${pkg} is Node.js ${version}, not ${wanted} or a later ${major}.x; ${fix}` };
  return { path, version };
}
