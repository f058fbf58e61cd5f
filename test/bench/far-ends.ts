import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { TelnetEndpoint } from '@lifeline/shared';
import { SerialFarEnd, startSocatPtyPair, type SocatPtyPair } from '@lifeline/edge-agent/testing';

/** The device's side of a console: what the device prints, and what it reads. */
export interface FarEnd {
  /** YAML flow mapping for the agent's `console:`. */
  readonly agentConsole: string;
  write(data: Buffer | string): Promise<void>;
  readExactly(n: number, timeoutMs?: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** A serial console: a socat pty pair, the agent on `ttyUSB0`, the device on `device`. */
export async function serialFarEnd(dir: string): Promise<FarEnd & { readonly ttyPath: string }> {
  const pty: SocatPtyPair = await startSocatPtyPair(dir, { names: ['ttyUSB0', 'device'] });
  const device = await SerialFarEnd.open(pty.b);
  return {
    agentConsole: '{ type: serial, path: ttyUSB0, baudRate: 115200 }',
    ttyPath: pty.a,
    write: (data) => device.write(data),
    readExactly: (n, timeoutMs) => device.readExactly(n, timeoutMs),
    close: async () => {
      await device.close();
      await pty.stop();
    },
  };
}

/**
 * A console behind a terminal server on the site LAN (the agent's `telnet` console type), played
 * here with lifeline's own Telnet endpoint in the server role, like ser2net with RFC 2217. No pty
 * in the way: this is the fastest path from a device to the agent.
 */
export async function terminalServerFarEnd(): Promise<FarEnd> {
  let telnet: TelnetEndpoint | undefined;
  let socket: Socket | undefined;
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  let wake: (() => void) | undefined;
  const server: Server = createServer();
  const connected = new Promise<void>((resolve) => {
    server.once('connection', (s: Socket) => {
      socket = s;
      s.setNoDelay(true);
      telnet = new TelnetEndpoint(s, { role: 'server', comPort: true });
      telnet.on('error', () => {});
      telnet.on('data', (chunk) => {
        buffered.push(chunk);
        bufferedBytes += chunk.length;
        wake?.();
      });
      resolve();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    agentConsole: `{ type: telnet, host: 127.0.0.1, port: ${port} }`,
    write: async (data) => {
      await connected;
      if (!telnet!.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)) await once(telnet!, 'drain');
    },
    readExactly: async (n, timeoutMs = 5_000) => {
      await connected;
      const deadline = Date.now() + timeoutMs;
      while (bufferedBytes < n) {
        if (Date.now() > deadline) throw new Error(`terminal server got ${bufferedBytes} of ${n} bytes in ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      const all = Buffer.concat(buffered);
      buffered = all.length > n ? [all.subarray(n)] : [];
      bufferedBytes = all.length - n;
      return all.subarray(0, n);
    },
    close: async () => {
      socket?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
