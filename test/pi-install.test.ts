import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentConfigSchema, parseConfigText } from '@lifeline/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireProgram } from './support/programs.js';
import { makeTempDir } from './support/temp-dir.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const installer = join(root, 'deploy/pi/install.sh');
const fingerprint = 'SHA256:+hkcgVN6cDqFmYZcEuASaEReUKshz2T+r9ueEQz0I5M';
const flags = ['--relay-host', 'relay.example.com', '--relay-port', '8443', '--fingerprint', fingerprint, '--device', 'rtr-tokyo-01'];

describe('deploy/pi/install.sh', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let destdir: string;
  let tarballs: string[];

  beforeEach(async () => {
    dir = await makeTempDir('pi-install');
    destdir = join(dir.path, 'root');
    await mkdir(destdir);
    // The dry run only checks that the tarballs exist and are named like npm pack output.
    tarballs = [join(dir.path, 'lifeline-shared-0.1.0.tgz'), join(dir.path, 'lifeline-edge-agent-0.1.0.tgz')];
    for (const t of tarballs) await writeFile(t, '');
  });
  afterEach(() => dir.remove());

  /** Runs the installer with stdin closed (no terminal), so it can never wait for an answer. */
  function install(...args: string[]) {
    const result = spawnSync('bash', [installer, ...args], {
      env: { ...process.env, DESTDIR: destdir },
      input: '',
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** The lines of a file the dry run says it would write, without their indent. */
  function writtenFile(stdout: string, path: string): string {
    const lines = stdout.split('\n');
    const start = lines.findIndex((l) => l.startsWith(`+ write ${destdir}${path} `));
    expect(start, `no write of ${path} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
    const body: string[] = [];
    for (const line of lines.slice(start + 1)) {
      if (!line.startsWith('    ')) break;
      body.push(line.slice(4));
    }
    return `${body.join('\n')}\n`;
  }

  it('is valid bash that shellcheck finds nothing wrong with', () => {
    const shellcheck = requireProgram('shellcheck');
    for (const script of [installer, join(root, 'deploy/make-release.sh')]) {
      expect(spawnSync('bash', ['-n', script], { encoding: 'utf8' }).stderr).toBe('');
      const lint = spawnSync(shellcheck, ['--severity=style', script], { encoding: 'utf8' });
      expect(lint.stdout + lint.stderr, script).toBe('');
      expect(lint.status).toBe(0);
    }
  });

  it('prints every step of an install in a dry run, and changes nothing', async () => {
    const { code, stdout, stderr } = install('--dry-run', ...flags, ...tarballs);
    expect(code, stderr).toBe(0);
    const steps = [
      /^\+ useradd --system .* lifeline$|^==> user lifeline exists$/m,
      /^\+ usermod --append --groups dialout lifeline$/m,
      /^\+ usermod --append --groups gpio lifeline$/m,
      new RegExp(`^\\+ install -d -m 0750 -o root -g lifeline ${destdir}/etc/lifeline$`, 'm'),
      new RegExp(`^\\+ install -d -m 0700 -o lifeline -g lifeline ${destdir}/var/lib/lifeline$`, 'm'),
      /^\+ npm install --prefix \S+\/opt\/lifeline --omit=dev .*\.\/releases\/lifeline-shared-0\.1\.0\.tgz \.\/releases\/lifeline-edge-agent-0\.1\.0\.tgz$/m,
      /^\+ ln -sfn \/opt\/lifeline\/node_modules\/\.bin\/lifeline-agent \S+\/usr\/local\/bin\/lifeline-agent$/m,
      /^\+ runuser -u lifeline -- \/opt\/lifeline\/node_modules\/\.bin\/lifeline-agent pubkey --config \/etc\/lifeline\/agent\.yaml$/m,
      /^\+ install -D -m 0644 .*lifeline-agent\.service \S+\/etc\/systemd\/system\/lifeline-agent\.service$/m,
      /^\+ systemctl enable lifeline-agent\.service$/m,
      /^\+ systemctl restart lifeline-agent\.service$/m,
    ];
    for (const step of steps) expect(stdout).toMatch(step);
    // The key is shown after the config exists and before the service starts.
    expect(stdout.indexOf('agent.yaml (mode 0640, root:lifeline)')).toBeLessThan(stdout.indexOf('pubkey'));
    expect(stdout.indexOf('pubkey')).toBeLessThan(stdout.indexOf('systemctl enable'));
    expect(await readdir(destdir)).toEqual([]);
  });

  it('writes a starter agent.yaml that the agent accepts', () => {
    const { code, stdout, stderr } = install('--dry-run', ...flags, '--console', '/dev/serial/by-id/usb-FTDI-if00', '--baud-rate', '115200', ...tarballs);
    expect(code, stderr).toBe(0);
    const config = parseConfigText('agent.yaml', writtenFile(stdout, '/etc/lifeline/agent.yaml'), agentConfigSchema);
    expect(config).toMatchObject({
      relay: { host: 'relay.example.com', port: 8443, hostKey: fingerprint },
      device: 'rtr-tokyo-01',
      keyFile: '/var/lib/lifeline/agent_ed25519',
      console: { type: 'serial', path: '/dev/serial/by-id/usb-FTDI-if00', baudRate: 115200 },
    });
  });

  it('keeps an existing agent.yaml and asks for nothing', async () => {
    await mkdir(join(destdir, 'etc/lifeline'), { recursive: true });
    await writeFile(join(destdir, 'etc/lifeline/agent.yaml'), 'device: kept\n');
    const { code, stdout, stderr } = install('--dry-run', ...tarballs);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`==> keeping the existing ${destdir}/etc/lifeline/agent.yaml`);
    expect(stdout).not.toContain('agent.yaml (mode');
  });

  it('stops before any step when there is no terminal to ask for missing values', () => {
    const { code, stdout, stderr } = install('--dry-run', '--relay-host', 'relay.example.com', ...tarballs);
    expect(code).toBe(2);
    expect(stderr).toContain('give --fingerprint --device');
    expect(stdout).not.toMatch(/^\+ /m);
  });

  it('refuses a host key that is not a SHA256 fingerprint', () => {
    const bad = flags.map((f) => (f === fingerprint ? 'ssh-ed25519 AAAA' : f));
    const { code, stderr } = install('--dry-run', ...bad, ...tarballs);
    expect(code).toBe(2);
    expect(stderr).toMatch(/fingerprint .* is not SHA256:/);
  });

  it('refuses to install the agent without the shared package it needs', () => {
    const { code, stderr } = install('--dry-run', ...flags, tarballs[1]!);
    expect(code).toBe(2);
    expect(stderr).toContain('no lifeline-shared-*.tgz');
  });
});
