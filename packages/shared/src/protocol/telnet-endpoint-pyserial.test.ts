/**
 * Interop with a real RFC 2217 client: pyserial's `rfc2217://` against our server endpoint.
 * pyserial waits for the server's answer to each line setting and purge, so this also checks
 * that the replies are what RFC 2217 requires.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteCollector } from '../testing/index.js';
import type { ComPortMessage } from './rfc2217.js';
import { TelnetEndpoint } from './telnet-endpoint.js';
import type { BreakAction } from './telnet-endpoint-types.js';

const python = '/usr/bin/python3';

function pyserialAvailable(): boolean {
  try {
    execFileSync(python, ['-c', 'import serial.rfc2217'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Outside CI a machine without python3-serial skips; in CI the test runs and fails loudly.
const runnable = pyserialAvailable() || process.env.CI === 'true';

const script = `
import sys, serial
s = serial.serial_for_url('rfc2217://127.0.0.1:%s?ign_set_control' % sys.argv[1], baudrate=115200, timeout=5)
s.write(bytes(range(256)))
s.send_break(0.05)
s.write(b'after break')
s.flush()
got = s.read(256)
sys.stdout.write(got.hex())
s.close()
`;

let server: Server | undefined;
let sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe.skipIf(!runnable)('TelnetEndpoint server with pyserial as the RFC 2217 client', () => {
  it('receives all 256 byte values, line settings and BREAK ON/OFF, and sends all 256 back', async () => {
    if (!pyserialAvailable()) throw new Error('this test needs /usr/bin/python3 with python3-serial (apt-get install python3-serial)');
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const breaks: BreakAction[] = [];
    const commands: ComPortMessage[] = [];
    let received: Promise<Buffer> | undefined;

    server = createServer((socket) => {
      sockets.push(socket);
      const telnet = new TelnetEndpoint(socket, { role: 'server', comPort: true });
      telnet.on('error', () => undefined);
      telnet.on('break', (b) => breaks.push(b));
      telnet.on('comPort', (m) => commands.push(m));
      const collector = new ByteCollector(telnet);
      received = collector.take(256 + 11, 10_000).then((bytes) => {
        // pyserial empties its input buffer while opening: answer only once it is talking.
        telnet.write(all);
        return bytes;
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');

    const output = await new Promise<string>((resolve, reject) => {
      execFile(python, ['-c', script, String(address.port)], { timeout: 20_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`pyserial client failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });

    expect(await received).toEqual(Buffer.concat([all, Buffer.from('after break')]));
    expect(Buffer.from(output, 'hex')).toEqual(all);
    expect(breaks).toEqual(['on', 'off']);
    expect(commands).toContainEqual({ command: 'set-baudrate', fromServer: false, value: 115200 });
    expect(commands).toContainEqual({ command: 'set-datasize', fromServer: false, value: 8 });
    expect(commands).toContainEqual({ command: 'purge-data', fromServer: false, value: 1 });
  });
});
