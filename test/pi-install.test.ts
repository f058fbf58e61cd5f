import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentConfigSchema } from '@lifeline/shared';
import { parseConfigText } from '../packages/shared/src/config/config-parse.js';
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
  let deb: string;
  /** Stand-ins for /dev/serial/by-id, /sys/class/leds and apt-cache, so the host's own never matter. */
  let byId: string;
  let leds: string;
  let bin: string;

  beforeEach(async () => {
    dir = await makeTempDir('pi-install');
    destdir = join(dir.path, 'root');
    byId = join(dir.path, 'by-id');
    leds = join(dir.path, 'leds');
    bin = join(dir.path, 'bin');
    for (const d of [destdir, byId, leds, bin]) await mkdir(d);
    // The dry run only checks that the package exists and is named like make-release's output.
    deb = join(dir.path, 'lifeline-agent_0.1.0_all.deb');
    await writeFile(deb, '');
    await aptOffersNodejs('20.19.2+dfsg-1');
  });
  afterEach(() => dir.remove());

  /** What `apt-cache policy nodejs` reports as the candidate. */
  async function aptOffersNodejs(version: string): Promise<void> {
    await writeFile(join(bin, 'apt-cache'), `#!/bin/sh\nprintf 'nodejs:\\n  Installed: (none)\\n  Candidate: ${version}\\n'\n`);
    await chmod(join(bin, 'apt-cache'), 0o755);
  }

  /** Runs the installer with stdin closed (no terminal), so it can never wait for an answer. */
  function install(...args: string[]) {
    const result = spawnSync('bash', [installer, ...args], {
      env: { ...process.env, DESTDIR: destdir, LIFELINE_SERIAL_BY_ID: byId, LIFELINE_SYS_LEDS: leds, PATH: `${bin}:${process.env.PATH}` },
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

  function agentYaml(stdout: string) {
    return parseConfigText('agent.yaml', writtenFile(stdout, '/etc/lifeline/agent.yaml'), agentConfigSchema);
  }

  it("is valid shell that shellcheck finds nothing wrong with, as are the release script and the packages' helpers", () => {
    const shellcheck = requireProgram('shellcheck');
    const scripts = [installer, join(root, 'deploy/make-release.sh'), join(root, 'deploy/debian/maintscript-common.sh')];
    scripts.push(join(root, 'deploy/debian/lifeline-agent/lifeline-agent'), join(root, 'deploy/debian/lifeline-relay/lifeline-relay'));
    for (const script of scripts) {
      expect(spawnSync('bash', ['-n', script], { encoding: 'utf8' }).stderr).toBe('');
      const lint = spawnSync(shellcheck, ['--severity=style', script], { encoding: 'utf8' });
      expect(lint.stdout + lint.stderr, script).toBe('');
      expect(lint.status).toBe(0);
    }
  });

  it('prints every step of an install in a dry run, in order, and changes nothing', async () => {
    const { code, stdout, stderr } = install('--dry-run', ...flags, deb);
    expect(code, stderr).toBe(0);
    const steps = [
      /^\+ apt-get update$/m,
      // The package from its path, its dependencies (nodejs) from the distribution's archive.
      new RegExp(`^\\+ env DEBIAN_FRONTEND=noninteractive apt-get install -y ${deb}$`, 'm'),
      new RegExp(`^\\+ write ${destdir}/etc/lifeline/agent\\.yaml \\(mode 0640, root:lifeline\\):$`, 'm'),
      new RegExp(`^\\+ /usr/bin/lifeline-agent check-relay --config ${destdir}/etc/lifeline/agent\\.yaml$`, 'm'),
      /^\+ runuser -u lifeline -- \/usr\/bin\/lifeline-agent pubkey --generate --config \/etc\/lifeline\/agent\.yaml$/m,
      /^\+ systemctl enable lifeline-agent\.service$/m,
      /^\+ systemctl restart lifeline-agent\.service$/m,
    ];
    let at = -1;
    for (const step of steps) {
      const match = step.exec(stdout);
      expect(match, `${step} in:\n${stdout}`).not.toBeNull();
      expect(match!.index, `${step} comes after the step before it`).toBeGreaterThan(at);
      at = match!.index;
    }
    // Nothing from npm, nothing compiled.
    expect(stdout).not.toMatch(/npm|make|g\+\+/);
    expect(await readdir(destdir)).toEqual([]);
  });

  it("writes a starter agent.yaml that the agent accepts, with the board's ACT LED as the status LED", async () => {
    await mkdir(join(leds, 'ACT'));
    const { code, stdout, stderr } = install(
      '--dry-run',
      ...flags,
      '--console',
      '/dev/serial/by-id/usb-FTDI-if00',
      '--baud-rate',
      '115200',
      deb,
    );
    expect(code, stderr).toBe(0);
    expect(agentYaml(stdout)).toMatchObject({
      relay: { host: 'relay.example.com', port: 8443, hostKey: fingerprint },
      device: 'rtr-tokyo-01',
      stateDir: '/var/lib/lifeline',
      keyFile: 'agent_ed25519',
      console: { type: 'serial', path: '/dev/serial/by-id/usb-FTDI-if00', baudRate: 115200 },
      status: { led: { type: 'sysfs-led', name: 'ACT' } },
    });
    expect(stderr).not.toContain('no ACT LED');
  });

  it('uses led0 on older Raspberry Pi OS, a GPIO pin when given one, and warns when the board has no ACT LED', async () => {
    await mkdir(join(leds, 'led0'));
    expect(agentYaml(install('--dry-run', ...flags, deb).stdout).status.led).toEqual({ type: 'sysfs-led', name: 'led0' });
    expect(agentYaml(install('--dry-run', ...flags, '--led-gpio', '17', deb).stdout).status.led).toEqual({
      type: 'gpio',
      pin: 17,
      activeLow: false,
    });
    const bad = install('--dry-run', ...flags, '--led-gpio', '99', deb);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--led-gpio "99" is not a BCM GPIO number');
    await rm(join(leds, 'led0'), { recursive: true });
    const none = install('--dry-run', ...flags, deb);
    expect(none.stderr).toContain('no ACT LED');
    expect(agentYaml(none.stdout).status.led).toEqual({ type: 'sysfs-led', name: 'ACT' });
  });

  it('picks the one serial adapter by its /dev/serial/by-id/ name, and swaps a /dev/ttyUSB path for it', async () => {
    const tty = join(dir.path, 'ttyUSB0');
    await writeFile(tty, '');
    const link = join(byId, 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0');
    await symlink(tty, link);
    expect(agentYaml(install('--dry-run', ...flags, deb).stdout).console).toMatchObject({ path: link });
    const given = install('--dry-run', ...flags, '--console', tty, deb);
    expect(given.stdout).toContain(`==> using ${link}, the stable name of ${tty}`);
    expect(agentYaml(given.stdout).console).toMatchObject({ path: link });
  });

  it('makes a person choose among several serial adapters rather than guess', async () => {
    for (const name of ['usb-FTDI-a-if00', 'usb-Prolific-b-if00']) {
      await writeFile(join(dir.path, name), '');
      await symlink(join(dir.path, name), join(byId, name));
    }
    const { code, stdout, stderr } = install('--dry-run', ...flags, deb);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `several serial adapters in ${byId}: give --console with one of: ${join(byId, 'usb-FTDI-a-if00')} ${join(byId, 'usb-Prolific-b-if00')}`,
    );
    expect(stdout).not.toMatch(/^\+ /m);
  });

  it('keeps an existing agent.yaml, asks for nothing, and still checks the relay key it pins', async () => {
    await mkdir(join(destdir, 'etc/lifeline'), { recursive: true });
    await writeFile(join(destdir, 'etc/lifeline/agent.yaml'), 'device: kept\n');
    const { code, stdout, stderr } = install('--dry-run', deb);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`==> keeping the existing ${destdir}/etc/lifeline/agent.yaml`);
    expect(stdout).not.toContain('agent.yaml (mode');
    expect(stdout).toMatch(/^\+ \/usr\/bin\/lifeline-agent check-relay --config \/etc\/lifeline\/agent\.yaml$/m);
  });

  it("says when the distribution's nodejs is too old for the package, and accepts 20.19", async () => {
    await aptOffersNodejs('18.19.0+dfsg-6~deb12u2');
    const old = install('--dry-run', ...flags, deb);
    expect(old.code).toBe(0);
    expect(old.stderr).toContain("this system's archive offers nodejs 18.19.0+dfsg-6~deb12u2; lifeline-agent needs 20.19 or newer");
    expect(old.stderr).toContain('(a real run stops here)');
    await aptOffersNodejs('20.19.2+dfsg-1');
    expect(install('--dry-run', ...flags, deb).stderr).not.toContain('nodejs');
  });

  it('stops before any step when there is no terminal to ask for missing values', () => {
    const { code, stdout, stderr } = install('--dry-run', '--relay-host', 'relay.example.com', deb);
    expect(code).toBe(2);
    expect(stderr).toContain('give --fingerprint --device');
    expect(stdout).not.toMatch(/^\+ /m);
  });

  it('refuses a host key that is not a SHA256 fingerprint', () => {
    const bad = flags.map((f) => (f === fingerprint ? 'ssh-ed25519 AAAA' : f));
    const { code, stderr } = install('--dry-run', ...bad, deb);
    expect(code).toBe(2);
    expect(stderr).toMatch(/fingerprint .* is not SHA256:/);
  });

  it('takes the agent package only, and says so for an old release tarball', async () => {
    const tarball = join(dir.path, 'lifeline-edge-agent-0.1.0.tgz');
    await writeFile(tarball, '');
    const old = install('--dry-run', ...flags, tarball);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('this installer takes lifeline-agent_VERSION_all.deb');
    const relay = join(dir.path, 'lifeline-relay_0.1.0_amd64.deb');
    await writeFile(relay, '');
    expect(install('--dry-run', ...flags, relay).stderr).toContain('not the lifeline-agent package');
    expect(install('--dry-run', ...flags).stderr).toContain('give the lifeline-agent package to install');
  });
});
