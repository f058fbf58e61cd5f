import ssh2 from 'ssh2';
import { TelnetEndpoint } from '@lifeline/shared';

/** One in-process agent connection serving several devices, as a real agent with `consoles: [...]` does. */
export interface Ssh2Agent {
  readonly client: ssh2.Client;
  /** Whether the SSH connection has closed. */
  readonly closed: () => boolean;
  /** Console streams the relay opened per device, and how many of them closed. */
  readonly streams: Map<string, { opened: number; closed: number }>;
  end(): void;
}

/**
 * Logs in as `lifeline-agent` with `privateKey`, registers `forwardIn(deviceId, 0)` for each
 * device and answers every console stream the relay opens with a Telnet server endpoint, as the
 * edge agent does. Resolves once the relay has opened a stream to every device.
 */
export function connectSsh2Agent(port: number, deviceIds: readonly string[], privateKey: string, timeoutMs = 30_000): Promise<Ssh2Agent> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const streams = new Map(deviceIds.map((id) => [id, { opened: 0, closed: 0 }]));
    let closed = false;
    const agent: Ssh2Agent = { client, closed: () => closed, streams, end: () => client.end() };
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`${deviceIds[0]}...: no console streams from the relay within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on('close', () => (closed = true));
    client.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${deviceIds[0]}...: ${err.message}`));
    });
    client.on('tcp connection', (info, accept) => {
      const count = streams.get(info.destIP);
      const channel = accept();
      if (count) {
        count.opened++;
        channel.once('close', () => count.closed++);
      }
      const telnet = new TelnetEndpoint(channel, { role: 'server', comPort: true });
      telnet.on('error', () => undefined);
      if ([...streams.values()].every((s) => s.opened > 0)) {
        clearTimeout(timer);
        resolve(agent);
      }
    });
    client.on('ready', () => {
      for (const id of deviceIds) {
        client.forwardIn(id, 0, (err) => {
          if (!err) return;
          clearTimeout(timer);
          reject(new Error(`${id}: forward refused: ${err.message}`));
        });
      }
    });
    client.connect({ host: '127.0.0.1', port, username: 'lifeline-agent', privateKey, readyTimeout: timeoutMs });
  });
}
