import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LifelineProcess, agentBin, relayBin } from './support/lifeline-process.js';
import { LifelineSite, users } from './support/lifeline-site.js';
import { openConsole, tryLogin } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';

const ESC = '\x1d'; // Ctrl-], the default escape key

describe('relay and agent as processes, simulated router console, ssh2 client', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let site: LifelineSite;

  beforeAll(async () => {
    dir = await makeTempDir('e2e-sim');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
  });
  afterAll(async () => {
    await site?.stop();
    await dir?.remove();
  });

  it('lands a plain USER login on the default device and round-trips a command', async () => {
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    c.write('\r');
    await c.waitForOutput('rtr-1>');
    c.write('show version\r');
    await c.waitForOutput(/lifeline simulated IOS/i);
    c.end();
    await c.closed;
  });

  it('drops the router into ROMMON on an escape-key break, and boots it again', async () => {
    const c = await openConsole({ port: site.port, user: 'alice:rtr-1', password: users.alice.password });
    c.write('\r');
    await c.waitForOutput('rtr-1>');
    c.write(`${ESC}b`);
    await c.waitForOutput('rommon 1 >');
    c.write('boot\r');
    await c.waitForOutput(/rtr-1>\s*$/);
    c.end();
    await c.closed;
  });

  it('lists the escape commands and disconnects on escape-dot', async () => {
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    c.write(`${ESC}?`);
    await c.waitForOutput(/break/i);
    c.write(`${ESC}.`);
    await expect(c.closed).resolves.toBe(0);
  });

  it('gives a wrong password and an unknown user the same answer', async () => {
    const wrong = await tryLogin({ port: site.port, user: 'alice', password: 'nope' });
    const unknown = await tryLogin({ port: site.port, user: 'mallory', password: 'nope' });
    expect(wrong).toMatch(/authentication/i);
    expect(unknown).toBe(wrong);
  });

  it('answers a forbidden and an unknown device alike, with one line and exit status 1 (no terminal)', async () => {
    const forbidden = await openConsole({ port: site.port, user: 'bob:rtr-1', password: users.bob.password, pty: false });
    const unknown = await openConsole({ port: site.port, user: 'bob:no-such', password: users.bob.password, pty: false });
    expect(await forbidden.closed).toBe(1);
    expect(await unknown.closed).toBe(1);
    expect(forbidden.output()).toMatch(/rtr-1 is not available/);
    expect(forbidden.output().replace('rtr-1', 'X')).toBe(unknown.output().replace('no-such', 'X'));
  });

  it('answers a forbidden and an unknown device alike at a terminal too: the line, then the menu of their own devices', async () => {
    const forbidden = await openConsole({ port: site.port, user: 'bob:rtr-1', password: users.bob.password });
    const unknown = await openConsole({ port: site.port, user: 'bob:no-such', password: users.bob.password });
    for (const c of [forbidden, unknown]) {
      await c.waitForOutput('Device (number or name');
      c.write('\x03');
      expect(await c.closed).toBe(1);
    }
    expect(forbidden.output()).toMatch(/rtr-1 is not available/);
    expect(forbidden.output()).toMatch(/Devices you may reach \(1\):\r\n {2}1 {2}sw-offline {2}offline/);
    expect(forbidden.output().replace('rtr-1', 'X')).toBe(unknown.output().replace('no-such', 'X'));
  });

  it('says a device is offline when its agent is not connected, and exits 1 (no terminal: no waiting)', async () => {
    const c = await openConsole({ port: site.port, user: 'alice:sw-offline', password: users.alice.password, pty: false });
    expect(await c.closed).toBe(1);
    expect(c.output()).toMatch(/sw-offline is offline/);
  });

  it('refuses exec: people get the console and nothing else', async () => {
    const result = await new Promise<string>((resolve) => {
      const client = new ssh2.Client();
      client.on('error', (err) => resolve(`error: ${err.message}`));
      client.on('ready', () =>
        client.exec('id', (err) => {
          client.end();
          resolve(err ? 'refused' : 'allowed');
        }),
      );
      client.connect({ host: '127.0.0.1', port: site.port, username: 'alice', password: users.alice.password });
    });
    expect(result).toBe('refused');
  });

  it('logs the relay host key fingerprint the agent pinned', () => {
    expect(site.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('bad configuration', () => {
  it('names the file and the key, and exits 78 without starting', async () => {
    const dir = await makeTempDir('e2e-badcfg');
    try {
      const file = join(dir.path, 'relay.yaml');
      await writeFile(file, 'listen: { port: 99999 }\nhostKeyFile: k\nusers: []\n');
      const relay = LifelineProcess.start(relayBin, ['run', '--config', file]);
      expect(await relay.waitForExit()).toBe(78);
      expect(relay.stderr).toContain(`${file}: listen.port:`);

      const agentFile = join(dir.path, 'agent.yaml');
      await writeFile(agentFile, 'relay: { host: r, hostKey: "SHA256:short" }\ndevice: d\nkeyFile: k\nconsole: { type: sim }\n');
      const agent = LifelineProcess.start(agentBin, ['run', '--config', agentFile]);
      expect(await agent.waitForExit()).toBe(78);
      expect(agent.stderr).toContain(`${agentFile}: relay.hostKey:`);
    } finally {
      await dir.remove();
    }
  });

  it('refuses to run the agent against a relay whose host key is not the pinned one', async () => {
    const dir = await makeTempDir('e2e-hostkey');
    const site = await LifelineSite.start(dir.path, { console: '{ type: sim }' });
    try {
      await site.agent?.stop();
      const wrongPin = `SHA256:${'A'.repeat(43)}`;
      await writeFile(
        site.agentConfigFile,
        (await import('node:fs')).readFileSync(site.agentConfigFile, 'utf8').replace(site.fingerprint, wrongPin),
      );
      const agent = LifelineProcess.start(agentBin, ['run', '--config', site.agentConfigFile]);
      try {
        const line = await agent.waitForLog('host key mismatch', (l) => l.event === 'tunnel.retry' && l.code === 'TUNNEL_HOSTKEY_MISMATCH');
        expect(String(line.msg)).toContain(site.fingerprint);
        expect(String(line.msg)).toContain(wrongPin);
        expect(site.relay.logs.some((l) => l.event === 'tunnel.up')).toBe(true); // only the first, correctly pinned agent
        expect(site.relay.logs.filter((l) => l.event === 'tunnel.up')).toHaveLength(1);
      } finally {
        await agent.stop();
      }
    } finally {
      await site.stop();
      await dir.remove();
    }
  });
});

describe('hash-password', () => {
  it('reads a password on stdin and prints a scrypt hash', () => {
    const result = spawnSync(process.execPath, [relayBin, 'hash-password'], { input: 'correct horse\n' });
    expect(result.status).toBe(0);
    expect(result.stdout.toString()).toMatch(/^\$scrypt\$\S+\n$/);
  });
});
