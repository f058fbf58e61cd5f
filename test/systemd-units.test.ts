import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireProgram } from './support/programs.js';
import { makeTempDir } from './support/temp-dir.js';

const unitsDir = fileURLToPath(new URL('../deploy/systemd/', import.meta.url));
const units = ['lifeline-relay.service', 'lifeline-agent.service'];

function systemdAnalyze(): string {
  try {
    return requireProgram('systemd-analyze');
  } catch {
    throw new Error('this test needs the program "systemd-analyze": apt-get install systemd');
  }
}

/** What `systemd-analyze verify` says about unit files; it exits 0 even for unknown keys, so its output is the verdict. */
function verify(...files: string[]): string {
  const result = spawnSync(systemdAnalyze(), ['verify', ...files], { encoding: 'utf8', timeout: 20_000 });
  return `${result.stdout}${result.stderr}`.trim();
}

/** `Key=value` lines of the [Service] section, as [key, value] pairs. */
async function serviceSettings(unit: string): Promise<Array<[string, string]>> {
  const text = await readFile(join(unitsDir, unit), 'utf8');
  const section = text.split(/^\[/m).find((s) => s.startsWith('Service]')) ?? '';
  return section
    .split('\n')
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
}

describe('deploy/systemd units', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    dir = await makeTempDir('systemd-units');
  });
  afterAll(() => dir.remove());

  it('pass systemd-analyze verify without a remark', () => {
    expect(verify(...units.map((u) => join(unitsDir, u)))).toBe('');
  });

  it('are checked by a verifier that does report a misspelt setting', async () => {
    const text = await readFile(join(unitsDir, units[0]!), 'utf8');
    const broken = join(dir.path, 'broken.service');
    await writeFile(broken, text.replace('RestartPreventExitStatus=78', 'RestartPreventExitStatuss=78'));
    expect(verify(broken)).toContain("Unknown key 'RestartPreventExitStatuss'");
  });

  it.each(units)('%s does not restart after a bad config and runs as lifeline with its state dir private', async (unit) => {
    const settings = await serviceSettings(unit);
    const program = unit.replace('.service', '');
    expect(settings).toEqual(
      expect.arrayContaining([
        ['Type', 'simple'],
        ['ExecStart', `/usr/bin/env ${program} run --config /etc/lifeline/${program.replace('lifeline-', '')}.yaml`],
        ['Restart', 'on-failure'],
        ['RestartPreventExitStatus', '78'],
        ['User', 'lifeline'],
        ['StateDirectory', 'lifeline'],
        ['StateDirectoryMode', '0700'],
        ['NoNewPrivileges', 'yes'],
        ['ProtectSystem', 'strict'],
        ['ReadWritePaths', '/var/lib/lifeline'],
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
});
