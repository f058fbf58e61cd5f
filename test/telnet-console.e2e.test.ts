import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { requireProgram } from './support/programs.js';
import { Ser2net } from './support/ser2net.js';
import { SerialDevice } from './support/serial-device.js';
import { SocatPtyPair } from './support/socat-pty.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('telnet console: agent -> ser2net (RFC 2217) -> pty, relay and agent as processes', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let pty: SocatPtyPair;
  let device: SerialDevice;
  let ser2net: Ser2net;
  let site: LifelineSite | undefined;
  let straceFile: string;

  beforeEach(async () => {
    requireProgram('strace');
    dir = await makeTempDir('e2e-telnet');
    pty = await SocatPtyPair.start(dir.path);
    device = await SerialDevice.open(pty.deviceSide);
    straceFile = join(dir.path, 'ser2net.strace');
    ser2net = await Ser2net.start(dir.path, pty.agentSide, { straceFile });
    site = await LifelineSite.start(dir.path, { console: `{ type: telnet, host: 127.0.0.1, port: ${ser2net.port} }` });
  });
  afterEach(async () => {
    await site?.stop();
    await ser2net.stop();
    await device.close();
    await pty.stop();
    await dir.remove();
  });

  it('round-trips all 256 byte values through the terminal server', async () => {
    const c = await openConsole({ port: site!.port, user: 'alice', password: users.alice.password, pty: false });
    await waitFor('relay attached', () => site!.relay.logs.find((l) => l.event === 'party.join'));
    c.write(allBytes);
    expect((await device.waitForBytes(256)).equals(allBytes)).toBe(true);
    await device.write(allBytes);
    await waitFor('256 bytes at the person', () => (c.bytes().length >= 256 ? true : undefined));
    expect(c.bytes().subarray(-256).equals(allBytes)).toBe(true);
    c.end();
  });

  it('turns a BREAK from the person into a break on the terminal server line', async () => {
    const c = await openConsole({ port: site!.port, user: 'alice', password: users.alice.password });
    await waitFor('relay attached', () => site!.relay.logs.find((l) => l.event === 'party.join'));
    c.write('\x1db');
    await waitFor('TIOCSBRK/TIOCCBRK or TCSBRK issued by ser2net', async () => {
      const text = await readFile(straceFile, 'utf8').catch(() => '');
      return (/TIOCSBRK/.test(text) && /TIOCCBRK/.test(text)) || /TCSBRK/.test(text) ? true : undefined;
    });
    c.end();
  });
});
