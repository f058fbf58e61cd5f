import { spawn, spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { requireProgram } from './support/programs.js';
import { openSshFiles } from './support/ssh-clients.js';
import { makeTempDir } from './support/temp-dir.js';
import { TmuxTerminal } from './support/tmux-terminal.js';
import { waitFor } from './support/wait.js';

describe('real SSH clients against relay and agent processes (simulated router)', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let site: LifelineSite;
  let terminal: TmuxTerminal | undefined;

  beforeAll(async () => {
    dir = await makeTempDir('e2e-clients');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
  });
  afterEach(() => {
    terminal?.kill();
    terminal = undefined;
  });
  afterAll(async () => {
    await site?.stop();
    await dir?.remove();
  });

  describe('OpenSSH', () => {
    it('reaches the console and ~B drops the router into ROMMON', async () => {
      const ssh = await openSshFiles(dir.path, site.port, users.alice.password);
      terminal = TmuxTerminal.start(['ssh', ...ssh.args, 'alice@127.0.0.1'], ssh.env);
      terminal.keys('Enter');
      await terminal.waitForScreen('rtr-1>');
      terminal.type('show version');
      terminal.keys('Enter');
      await terminal.waitForScreen(/lifeline simulated IOS/i);
      // OpenSSH sees an escape only right after a newline.
      terminal.keys('Enter');
      terminal.type('~B');
      await terminal.waitForScreen('rommon 1 >');
      const breakLog = await waitFor('break in relay log', () => site.relay.logs.find((l) => l.event === 'console.break'));
      expect(breakLog.requestedMs).toBe(1000);
      // Leave the shared router as we found it.
      terminal.type('boot');
      terminal.keys('Enter');
      await terminal.waitForScreen(/rtr-1>\s*$/);
      terminal.keys('Enter');
      terminal.type('~.');
      await waitFor('ssh to exit', () => terminal!.exitStatus());
    });

    it('exits with status 1 and one line for a device the user may not use', async () => {
      const ssh = await openSshFiles(dir.path, site.port, users.bob.password);
      const result = spawnSync('ssh', [...ssh.args, '-T', 'bob:rtr-1@127.0.0.1'], {
        env: { ...process.env, ...ssh.env },
        timeout: 15_000,
        input: '',
      });
      expect(result.status).toBe(1);
      // Without a pty, lifeline's own lines go to stderr so stdout carries only console bytes.
      expect(result.stdout.toString()).toBe('');
      expect(result.stderr.toString().trim()).toMatch(/^lifeline: device rtr-1 is not available to bob\.$/);
    });

    it('is refused a remote port forward', async () => {
      const ssh = await openSshFiles(dir.path, site.port, users.alice.password);
      const result = spawnSync('ssh', [...ssh.args, '-N', '-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:9', 'alice@127.0.0.1'], {
        env: { ...process.env, ...ssh.env },
        timeout: 15_000,
      });
      expect(result.status).not.toBe(0);
      expect(result.stderr.toString()).toMatch(/forwarding failed/i);
    });

    it('is refused a command (exec)', async () => {
      const ssh = await openSshFiles(dir.path, site.port, users.alice.password);
      const result = spawnSync('ssh', [...ssh.args, 'alice@127.0.0.1', 'cat /etc/passwd'], {
        env: { ...process.env, ...ssh.env },
        timeout: 15_000,
      });
      expect(result.status).not.toBe(0);
      expect(result.stdout.toString()).not.toContain('root:');
    });
  });

  describe("PuTTY's plink", () => {
    const plinkArgs = (user: string, password: string, hostKey: string) => [
      '-ssh',
      '-batch',
      '-P',
      String(site.port),
      '-l',
      user,
      '-pw',
      password,
      '-hostkey',
      hostKey,
      '127.0.0.1',
    ];

    it('logs in with a password and a pinned host key and reaches the console', async () => {
      requireProgram('plink');
      const child = spawn('plink', plinkArgs('alice', users.alice.password, site.fingerprint), { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
      child.stderr.on('data', (d: Buffer) => (err += d.toString('latin1')));
      try {
        child.stdin.write('\r');
        await waitFor(
          () => `prompt via plink (got ${JSON.stringify(out)}, stderr ${JSON.stringify(err)})`,
          () => (out.includes('rtr-1>') ? true : undefined),
        );
        child.stdin.write('show version\r');
        // After the join scrollback, which may hold an earlier test's output.
        await waitFor('show version via plink', () => /lifeline simulated IOS/i.test(out.slice(out.lastIndexOf('---- live ----') + 1)));
      } finally {
        child.kill();
      }
    });

    it('fails on a wrong password', () => {
      requireProgram('plink');
      const result = spawnSync('plink', plinkArgs('alice', 'wrong', site.fingerprint), { timeout: 20_000, input: '' });
      expect(result.status).not.toBe(0);
      expect(result.stderr.toString()).toMatch(/access denied|password|authentication/i);
    });

    it('refuses to talk to a relay whose host key is not the pinned one', () => {
      requireProgram('plink');
      const result = spawnSync('plink', plinkArgs('alice', users.alice.password, `SHA256:${'A'.repeat(43)}`), {
        timeout: 20_000,
        input: '',
      });
      expect(result.status).not.toBe(0);
      expect(result.stdout.toString()).not.toContain('rtr-1>');
    });
  });
});
