import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root, seen from packages/shared/dist/testing/. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Built programs copied where any user may read and run them. */
export interface ProgramCopy {
  root: string;
  relayBin: string;
  agentBin: string;
  /** The node binary to run them with (the copy's, when node lives inside the checkout). */
  node: string;
  /** A program by absolute path: its copy when it lives inside the checkout (e.g. a bundled node), else itself. */
  runnable(path: string): string;
  /** Path of `pathInRepo` (relative to the repository root) inside the copy. */
  path(pathInRepo: string): string;
  remove(): Promise<void>;
}

/**
 * The top-level entries of node_modules to copy: all but the Node.js binary packages (a
 * `bin/node` inside, 150-190 MB each) that hold none of `nodes`. Copying both Node.js releases
 * for every test that runs a program as another user made those tests slow on a loaded machine.
 */
async function nodeModulesParts(repoRoot: string, nodes: readonly string[]): Promise<string[]> {
  const entries = await readdir(join(repoRoot, 'node_modules'));
  return entries
    .filter((entry) => {
      const dir = join(repoRoot, 'node_modules', entry);
      if (!existsSync(join(dir, 'bin', 'node'))) return true;
      return nodes.some((node) => !relative(dir, node).startsWith('..'));
    })
    .map((entry) => `node_modules/${entry}`);
}

/**
 * Copies what the programs need at run time (node_modules, and each package's package.json, bin
 * and dist) to a fresh folder under the temp dir that everyone may read and traverse. Tests that
 * run a program as another user (setpriv) use the copy: the checkout itself may sit in a folder
 * only its owner can enter (a home folder), where the other user could not even load the code.
 * Of the Node.js binaries inside the checkout only `nodes` are copied (default: the one running).
 * Run `tsc -b` first.
 */
export async function copyProgramsForAnyone(repoRoot = REPO_ROOT, nodes: readonly string[] = [process.execPath]): Promise<ProgramCopy> {
  const root = await mkdtemp(join(tmpdir(), 'lifeline-programs-'));
  await chmod(root, 0o755);
  const parts = ['package.json', ...(await nodeModulesParts(repoRoot, nodes))];
  for (const pkg of ['shared', 'relay', 'edge-agent']) parts.push(...['package.json', 'bin', 'dist'].map((p) => `packages/${pkg}/${p}`));
  try {
    await run('mkdir', ['-p', join(root, 'node_modules'), ...['shared', 'relay', 'edge-agent'].map((pkg) => join(root, 'packages', pkg))]);
    // cp -a keeps node_modules/@lifeline's relative symlinks pointing into the copy.
    for (const part of parts) if (existsSync(join(repoRoot, part))) await run('cp', ['-a', join(repoRoot, part), join(root, part)]);
    await run('chmod', ['-R', 'a+rX', root]);
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  const runnable = (path: string) => {
    const inRepo = relative(repoRoot, path);
    return inRepo.startsWith('..') ? path : join(root, inRepo);
  };
  return {
    root,
    relayBin: join(root, 'packages/relay/bin/lifeline-relay.js'),
    agentBin: join(root, 'packages/edge-agent/bin/lifeline-agent.js'),
    node: runnable(process.execPath),
    runnable,
    path: (pathInRepo) => join(root, pathInRepo),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
