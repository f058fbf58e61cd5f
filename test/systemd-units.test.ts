import { execFile, spawnSync } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNode } from '../scripts/node-runtime.mjs';
import { requireProgram } from './support/programs.js';
import { serviceEnvironment, serviceSettings, unitsDir } from './support/systemd-unit.js';
import { makeTempDir } from './support/temp-dir.js';

const units = ['lifeline-relay.service', 'lifeline-agent.service'];

/**
 * `systemd-analyze security --offline=yes` exposure of each unit on main before the Debian
 * packages (commit 80efa00, systemd 252): the units may only get safer.
 */
const exposureBefore: Record<string, number> = { 'lifeline-relay.service': 2.0, 'lifeline-agent.service': 2.3 };

/** The programs the units start, where the Debian packages put them. */
const unitPrograms = ['/usr/lib/lifeline-relay/node/bin/node', '/usr/bin/lifeline-agent'];

function systemdAnalyze(): string {
  try {
    return requireProgram('systemd-analyze');
  } catch {
    throw new Error('this test needs the program "systemd-analyze": apt-get install systemd');
  }
}

/**
 * A root for `systemd-analyze verify --root`: this machine's own units (the targets ours need),
 * /bin/kill, and stand-ins at the paths the packages install the programs to (verify checks
 * that ExecStart's program exists and is executable).
 */
async function makeVerifyRoot(path: string): Promise<string> {
  await mkdir(join(path, 'usr/lib/systemd'), { recursive: true });
  await cp('/usr/lib/systemd/system', join(path, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  await mkdir(join(path, 'bin'), { recursive: true });
  await copyFile('/bin/kill', join(path, 'bin/kill'));
  for (const program of unitPrograms) {
    await mkdir(join(path, program, '..'), { recursive: true });
    await writeFile(join(path, program), '#!/bin/sh\n');
    await chmod(join(path, program), 0o755);
  }
  return path;
}

/** What `systemd-analyze verify` says about unit files; it exits 0 even for unknown keys, so its output is the verdict. */
function verify(root: string, ...files: string[]): string {
  const result = spawnSync(systemdAnalyze(), ['verify', `--root=${root}`, ...files], { encoding: 'utf8', timeout: 20_000 });
  return `${result.stdout}${result.stderr}`.trim();
}

/** The overall exposure `systemd-analyze security --offline=yes` gives a unit file (0 safest, 10 worst). */
function exposure(file: string): number {
  const result = spawnSync(systemdAnalyze(), ['security', '--offline=yes', '--no-pager', file], { encoding: 'utf8', timeout: 20_000 });
  const match = /Overall exposure level for \S+: (\d+\.\d+)/.exec(result.stdout);
  if (!match) throw new Error(`no exposure level from systemd-analyze security:\n${result.stdout}${result.stderr}`);
  return Number(match[1]);
}

const run = promisify(execFile);

/** A script that grows V8's young generation and prints its size in bytes. */
const NEW_SPACE_SIZE =
  "const a = []; for (let i = 0; i < 3e5; i++) a.push({ i }); process.stdout.write(String(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));";

/** How many threads the process runs (V8's helper threads among them). */
const THREADS = "process.stdout.write(String(require('fs').readdirSync('/proc/self/task').length));";

describe('deploy/systemd units', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let root: string;
  beforeAll(async () => {
    dir = await makeTempDir('systemd-units');
    root = await makeVerifyRoot(join(dir.path, 'root'));
    for (const unit of units) await copyFile(join(unitsDir, unit), join(root, 'usr/lib/systemd/system', unit));
  });
  afterAll(() => dir.remove());

  it('pass systemd-analyze verify without a remark, installed where the packages put them', () => {
    expect(verify(root, ...units.map((u) => join(root, 'usr/lib/systemd/system', u)))).toBe('');
  });

  it('are checked by a verifier that does report a misspelt setting and a missing program', async () => {
    const text = await readFile(join(unitsDir, units[0]!), 'utf8');
    const broken = join(root, 'usr/lib/systemd/system/broken.service');
    await writeFile(
      broken,
      text
        .replace('RestartPreventExitStatus=', 'RestartPreventExitStatuss=')
        .replace('/usr/lib/lifeline-relay/node/bin/node', '/usr/lib/lifeline-relay/nodejs'),
    );
    const said = verify(root, broken);
    expect(said).toContain("Unknown key 'RestartPreventExitStatuss'");
    expect(said).toContain('/usr/lib/lifeline-relay/nodejs is not executable');
  });

  it.each(units)('%s is no more exposed than before (systemd-analyze security)', (unit) => {
    const score = exposure(join(unitsDir, unit));
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThanOrEqual(exposureBefore[unit]!);
  });

  it('scores a unit that drops a hardening setting worse, so the bound above can fail', async () => {
    const text = await readFile(join(unitsDir, 'lifeline-relay.service'), 'utf8');
    const weaker = join(dir.path, 'weaker.service');
    await writeFile(weaker, text.replace(/^(NoNewPrivileges|ProtectSystem|RestrictNamespaces)=.*$/gm, ''));
    expect(exposure(weaker)).toBeGreaterThan(exposureBefore['lifeline-relay.service']!);
  });

  it.each(units)(
    '%s does not restart after an error a restart cannot fix, reloads with SIGHUP and runs as lifeline with its state dir private',
    async (unit) => {
      const settings = await serviceSettings(unit);
      expect(settings).toEqual(
        expect.arrayContaining([
          ['Type', 'simple'],
          ['ExecReload', '/bin/kill -HUP $MAINPID'],
          ['Restart', 'on-failure'],
          ['RestartPreventExitStatus', '64 69 73 77 78'],
          ['User', 'lifeline'],
          ['StateDirectory', 'lifeline'],
          ['StateDirectoryMode', '0700'],
          ['NoNewPrivileges', 'yes'],
          ['ProtectSystem', 'strict'],
          ['ReadWritePaths', '/var/lib/lifeline'],
        ]),
      );
    },
  );

  it("runs the relay on its bundled Node.js and the agent on the distribution's, each from its package", async () => {
    expect(await serviceSettings('lifeline-relay.service')).toContainEqual([
      'ExecStart',
      '/usr/lib/lifeline-relay/node/bin/node --max-semi-space-size=2 /usr/lib/lifeline-relay/node_modules/@lifeline/relay/bin/lifeline-relay.js run --config /etc/lifeline/relay.yaml',
    ]);
    expect(await serviceSettings('lifeline-agent.service')).toContainEqual([
      'ExecStart',
      '/usr/bin/lifeline-agent run --config /etc/lifeline/agent.yaml',
    ]);
  });

  it('starts the agent with memory-conscious Node.js options that Node.js 20 and 24 both accept and apply', async () => {
    const nodeOptions = (await serviceEnvironment('lifeline-agent.service')).NODE_OPTIONS;
    expect(nodeOptions).toBe('--max-semi-space-size=1 --v8-pool-size=1 --jitless');
    for (const major of [20, 24]) {
      const node = findNode(major);
      // Allocates enough to grow the young generation, then reports its size: 2 semi-spaces of 1 MiB
      // (the default grows to 16 MiB). Node.js 24 with --jitless reports 3.25 MiB in some runs, never
      // more; Node.js 20, the Pi's, always 2.
      const { stdout } = await run(node.path!, ['-e', NEW_SPACE_SIZE], { env: { ...process.env, NODE_OPTIONS: nodeOptions } });
      expect(Number(stdout), `Node.js ${major}`).toBeLessThanOrEqual((major === 20 ? 2 : 4) * 1024 * 1024);
      const { stdout: unset } = await run(node.path!, ['-e', NEW_SPACE_SIZE], { env: { ...process.env, NODE_OPTIONS: '' } });
      expect(Number(unset), `Node.js ${major} without`).toBeGreaterThan(2 * 1024 * 1024);
      // One V8 helper thread: with the unit's options the process runs 3 threads fewer than with a pool of 4.
      const { stdout: threads } = await run(node.path!, ['-e', THREADS], { env: { ...process.env, NODE_OPTIONS: nodeOptions } });
      const { stdout: four } = await run(node.path!, ['--v8-pool-size=4', '-e', THREADS], { env: { ...process.env, NODE_OPTIONS: '' } });
      expect(Number(four) - Number(threads), `Node.js ${major}`).toBe(3);
      // No JIT compiler: V8 then has no WebAssembly either (the agent uses none).
      const { stdout: wasm } = await run(node.path!, ['-e', 'process.stdout.write(typeof WebAssembly)'], {
        env: { ...process.env, NODE_OPTIONS: nodeOptions },
      });
      expect(wasm, `Node.js ${major}`).toBe('undefined');
    }
  });

  it('gives the relay /run/lifeline for its admin socket, closed to others', async () => {
    const relay = await serviceSettings('lifeline-relay.service');
    expect(relay).toEqual(
      expect.arrayContaining([
        ['RuntimeDirectory', 'lifeline'],
        ['RuntimeDirectoryMode', '0750'],
      ]),
    );
  });

  it('lets the relay bind port 443 unprivileged and the agent reach serial ports and GPIO', async () => {
    expect(await serviceSettings('lifeline-relay.service')).toContainEqual(['AmbientCapabilities', 'CAP_NET_BIND_SERVICE']);
    const agent = await serviceSettings('lifeline-agent.service');
    expect(agent).toContainEqual(['SupplementaryGroups', 'dialout gpio']);
    // PrivateDevices would hide /dev/ttyUSB*; ProtectKernelTunables would make /sys (GPIO) read-only.
    expect(agent.map(([key]) => key)).not.toContain('PrivateDevices');
    expect(agent.map(([key]) => key)).not.toContain('ProtectKernelTunables');
  });

  it('lets the relay hold a socket per agent for 10,000 devices, and more', async () => {
    const limit = (await serviceSettings('lifeline-relay.service')).find(([key]) => key === 'LimitNOFILE')?.[1];
    expect(Number(limit)).toBeGreaterThanOrEqual(20_000);
  });
});
