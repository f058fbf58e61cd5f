import { afterEach, beforeEach, describe, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { requireProgram } from './support/programs.js';
import { SerialFarEnd, startSer2net, startSocatPtyPair, type Ser2netServer, type SocatPtyPair } from '@lifeline/edge-agent/testing';
import { expectAllByteValuesBothWays } from './support/byte-transparency.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

describe('telnet console: agent -> ser2net (RFC 2217) -> pty, relay and agent as processes', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let pty: SocatPtyPair;
  let device: SerialFarEnd;
  let ser2net: Ser2netServer;
  let site: LifelineSite | undefined;

  beforeEach(async () => {
    requireProgram('strace');
    dir = await makeTempDir('e2e-telnet');
    pty = await startSocatPtyPair(dir.path, { names: ['ttyUSB0', 'device'] });
    device = await SerialFarEnd.open(pty.b);
    ser2net = await startSer2net(dir.path, pty.a, { strace: true });
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
    await waitFor('relay attached', () => site!.relay.logs.find((l) => l.event === 'session.start'));
    await expectAllByteValuesBothWays(c, device);
    c.end();
  });

  it('turns a BREAK from the person into a break on the terminal server line', async () => {
    const c = await openConsole({ port: site!.port, user: 'alice', password: users.alice.password });
    await waitFor('relay attached', () => site!.relay.logs.find((l) => l.event === 'session.start'));
    c.write('\x1db');
    // RFC 2217 BREAK ON/OFF becomes TIOCSBRK then TIOCCBRK on ser2net's tty.
    await waitFor('TIOCSBRK then TIOCCBRK issued by ser2net', async () => {
      const text = (await ser2net.ioctls()).join('\n');
      return /TIOCSBRK/.test(text) && text.indexOf('TIOCSBRK') < text.lastIndexOf('TIOCCBRK');
    });
    c.end();
  });
});
