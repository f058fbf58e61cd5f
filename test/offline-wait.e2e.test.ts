import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { openSshFiles } from './support/ssh-clients.js';
import { makeTempDir } from './support/temp-dir.js';
import { TmuxTerminal } from './support/tmux-terminal.js';
import { waitFor } from './support/wait.js';

describe('a person logging in to a device whose agent is offline (OpenSSH in tmux, relay and agent processes)', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let site: LifelineSite;
  const terminals: TmuxTerminal[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('e2e-offline-wait');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }', agent: false });
  });
  afterEach(() => {
    for (const t of terminals.splice(0)) t.kill();
  });
  afterAll(async () => {
    await site?.stop();
    await dir?.remove();
  });

  /**
   * The client's exit status, as the shell around it prints it: tmux 3.3a does not always fill in
   * a dead pane's status.
   */
  const exitStatus = async (t: TmuxTerminal) => Number(/\[exit (\d+)\]/.exec(await t.waitForScreen(/\[exit \d+\]/, 15_000))![1]);
  const onTerminal = (args: string[], env: Record<string, string>) => {
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const t = TmuxTerminal.start(['sh', '-c', `ssh ${quoted}; echo "[exit $?]"; sleep 60`], env);
    terminals.push(t);
    return t;
  };

  async function sshOnTerminal(login: string): Promise<TmuxTerminal> {
    const ssh = await openSshFiles(dir.path, site.port, users.alice.password);
    return onTerminal([...ssh.args, '-l', login, '127.0.0.1'], ssh.env);
  }

  it('is told and waits; when an agent process starts, the console attaches and the person sees it', async () => {
    const terminal = await sshOnTerminal('alice:rtr-1');
    // The pane is 120 columns wide: the line wraps, so join the screen's lines before matching.
    await waitFor('the waiting line', () =>
      terminal
        .screen()
        .replace(/\n/g, '')
        .includes(
          '[lifeline] rtr-1 is offline (its agent has not connected since the relay started). Waiting for it to come back; press Ctrl-C or ^] then . to give up.',
        )
        ? true
        : undefined,
    );
    // Typed at no console: dropped, not queued for the device.
    terminal.type('typed-while-waiting');
    await site.startAgent();
    await terminal.waitForScreen('[lifeline] connected to rtr-1.', 20_000);
    terminal.keys('Enter');
    await terminal.waitForScreen(/rtr-1>\s*$/m);
    terminal.type('show version');
    terminal.keys('Enter');
    await terminal.waitForScreen(/lifeline simulated IOS/i);
    // What was typed while waiting never reached the router (it echoes what it gets).
    expect(terminal.screen().split('connected to rtr-1.')[1]).not.toContain('typed-while-waiting');
    expect(site.relay.logs.some((l) => l.event === 'session.offline-wait' && l.deviceId === 'rtr-1')).toBe(true);
    terminal.keys('Enter');
    terminal.type('~.');
    await exitStatus(terminal);
  });

  it('says when the agent was last seen, and gives up on Ctrl-C with exit status 1', async () => {
    await site.agent!.stop();
    await site.relay.waitForLog('device offline', (l) => l.event === 'tunnel.down' && l.deviceId === 'rtr-1');
    const terminal = await sshOnTerminal('alice:rtr-1');
    await terminal.waitForScreen(/\[lifeline\] rtr-1 is offline \(agent last seen \d+ s ago\)\. Waiting for it to come back/);
    terminal.keys('C-c');
    await terminal.waitForScreen('lifeline: gave up waiting for rtr-1.');
    expect(await exitStatus(terminal)).toBe(1);
  });

  it('gives up on the escape key then . as well', async () => {
    const terminal = await sshOnTerminal('alice:sw-offline');
    await terminal.waitForScreen('[lifeline] sw-offline is offline');
    terminal.keys('C-]');
    terminal.type('.');
    await terminal.waitForScreen('lifeline: gave up waiting for sw-offline.');
    expect(await exitStatus(terminal)).toBe(1);
  });

  it('keeps failing at once without a terminal (ssh -T, file transfer), with the offline message and status 1', async () => {
    const ssh = await openSshFiles(dir.path, site.port, users.alice.password);
    const started = Date.now();
    const result = spawnSync('ssh', [...ssh.args, '-T', '-l', 'alice:sw-offline', '127.0.0.1'], {
      env: { ...process.env, ...ssh.env },
      timeout: 20_000,
      input: '',
    });
    expect(result.status).toBe(1);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.toString().trim()).toBe('lifeline: device sw-offline is offline (its edge agent is not connected).');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('gives an unknown or forbidden device the same answer as before, with no waiting', async () => {
    for (const login of ['alice:no-such-device', 'bob:rtr-1']) {
      const ssh = await openSshFiles(dir.path, site.port, login.startsWith('bob') ? users.bob.password : users.alice.password);
      const t = onTerminal([...ssh.args, '-l', login, '127.0.0.1'], ssh.env);
      const device = login.split(':')[1]!;
      await t.waitForScreen(`device ${device} is not available to ${login.split(':')[0]}.`);
      // At a terminal, the menu of the person's own devices follows (ssh/device-menu.ts); Ctrl-C leaves it.
      await t.waitForScreen('Device (number or name');
      expect(t.screen()).not.toContain('Waiting');
      t.keys('C-c');
      expect(await exitStatus(t)).toBe(1);
    }
  });
});
