import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { requireProgram } from './support/programs.js';
import { SerialFarEnd, startSocatPtyPair, type SocatPtyPair } from '@lifeline/edge-agent/testing';
import { expectAllByteValuesBothWays } from './support/byte-transparency.js';
import { openSshConsole } from './support/openssh-console.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

describe('serial console over a socat pty pair, relay and agent as processes', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let pty: SocatPtyPair | undefined;
  let device: SerialFarEnd | undefined;
  let site: LifelineSite | undefined;

  beforeEach(async () => {
    dir = await makeTempDir('e2e-serial');
  });
  afterEach(async () => {
    await site?.stop();
    await device?.close();
    await pty?.stop();
    await dir.remove();
    site = device = pty = undefined;
  });

  async function startWithPty(agentPrefix?: string[]) {
    pty = await startSocatPtyPair(dir.path, { names: ['ttyUSB0', 'device'] });
    device = await SerialFarEnd.open(pty.b);
    site = await LifelineSite.start(dir.path, { console: '{ type: serial, path: ttyUSB0, baudRate: 115200 }', agentPrefix });
    return { pty, device, site };
  }

  it('round-trips keystrokes and output between a person and the device', async () => {
    const { device, site } = await startWithPty();
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    c.write('show clock\r');
    expect((await device.readExactly(11)).toString()).toBe('show clock\r');
    await device.write('*12:00:00.000 UTC Sat Nov 21 2026\r\nrtr-1#');
    await c.waitForOutput('rtr-1#');
    c.end();
  });

  it('carries all 256 byte values both ways, unchanged', async () => {
    const { device, site } = await startWithPty();
    // No pty: the escape key is off, so the session is binary-transparent.
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password, pty: false });
    await waitFor('relay attached', () => site.relay.logs.find((l) => l.event === 'session.start'));
    await expectAllByteValuesBothWays(c, device);
    c.end();
  });

  it('carries a 256 KiB upload (an XMODEM-sized firmware) intact', async () => {
    const { device, site } = await startWithPty();
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password, pty: false });
    await waitFor('relay attached', () => site.relay.logs.find((l) => l.event === 'session.start'));
    const firmware = Buffer.alloc(256 * 1024);
    for (let i = 0; i < firmware.length; i++) firmware[i] = (i * 7 + (i >> 8)) & 0xff;
    c.write(firmware);
    const got = await device.readExactly(firmware.length, 30_000);
    expect(got.equals(firmware)).toBe(true);
    c.end();
  });

  describe('OpenSSH with a pty and no client escapes (ssh -e none -tt), as PuTTY and file transfers run', () => {
    async function sshWithPty(user: 'alice' | 'tom') {
      const { device, site } = await startWithPty();
      const c = await openSshConsole({
        dir: dir.path,
        port: site.port,
        login: `${user}@127.0.0.1`,
        password: users[user].password,
        args: ['-e', 'none', '-tt'],
      });
      await waitFor('relay attached a pty session', () =>
        site.relay.logs.find((l) => l.event === 'session.attached' && l.user === user && l.pty === true),
      );
      return { device, c };
    }

    it('carries all 256 byte values and the escape key pairs unchanged for a user whose escapeChar is none', async () => {
      const { device, c } = await sshWithPty('tom');
      await expectAllByteValuesBothWays(c, device);
      // What the escape key would turn into BREAK, disconnect, one ^] and help reaches the device as sent.
      const pairs = Buffer.from('\x1db\x1d.\x1d\x1d\x1d?', 'latin1');
      c.write(pairs);
      expect((await device.readExactly(pairs.length)).equals(pairs)).toBe(true);
      c.end();
      expect(await c.closed).toBe(0);
    });

    it('passes ^] followed by a key that is not a command through, so 256 byte values arrive whole with the default escape key', async () => {
      const { device, c } = await sshWithPty('alice');
      // 0x1d (^]) then 0x1e is not a command: both bytes reach the device.
      await expectAllByteValuesBothWays(c, device);
      c.write('\x1dz');
      expect((await device.readExactly(2)).toString('latin1')).toBe('\x1dz');
      // The last byte of an upload is ^], then the input ends: it still reaches the device.
      c.write('\x1d');
      c.end();
      expect((await device.readExactly(1)).toString('latin1')).toBe('\x1d');
      expect(await c.closed).toBe(0);
    });
  });

  it('issues the break ioctl on the tty when the person sends BREAK', async () => {
    requireProgram('strace');
    const trace = join(dir.path, 'agent.strace');
    const { site } = await startWithPty(['strace', '-f', '-qq', '-e', 'trace=ioctl', '-o', trace]);
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    await waitFor('relay attached', () => site.relay.logs.find((l) => l.event === 'session.start'));
    c.write('\x1db'); // escape key, then b: BREAK
    const calls = await waitFor('TIOCSBRK and TIOCCBRK in strace output', async () => {
      const text = await readFile(trace, 'utf8').catch(() => '');
      return /TIOCSBRK/.test(text) && /TIOCCBRK/.test(text) ? text : undefined;
    });
    expect(calls.indexOf('TIOCSBRK')).toBeLessThan(calls.lastIndexOf('TIOCCBRK'));
    c.end();
  });

  it('tells the person when the serial port is missing and reconnects when it appears', async () => {
    site = await LifelineSite.start(dir.path, { console: '{ type: serial, path: ttyUSB0, baudRate: 115200 }' });
    const c = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    await c.waitForOutput(`serial port ${join(dir.path, 'ttyUSB0')} is not present`);
    expect(site.agent?.exitCode).toBeUndefined();

    pty = await startSocatPtyPair(dir.path, { names: ['ttyUSB0', 'device'] });
    device = await SerialFarEnd.open(pty.b);
    await c.waitForOutput('is back');
    c.write('hello\r');
    expect((await device.readExactly(6)).toString()).toBe('hello\r');

    // The USB adapter is pulled mid-session: the person is told, the agent stays up.
    await device.close();
    device = undefined;
    await pty.stop();
    await c.waitForOutput(/disconnected|not present/);
    expect(site.agent?.exitCode).toBeUndefined();
    c.end();
  });
});
