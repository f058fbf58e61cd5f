import { createServer, connect, type Socket } from 'node:net';

/** Two ends of one real TCP connection on 127.0.0.1, for stream-level tests. */
export interface SocketPair {
  /** The end that dialled. */
  client: Socket;
  /** The end the listener accepted. */
  server: Socket;
  /** Destroys both sockets. */
  close(): void;
}

/** Connects a socket to a one-shot listener on 127.0.0.1, port 0; the listener closes at once. */
export async function createSocketPair(): Promise<SocketPair> {
  const listener = createServer();
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('listener has no TCP address');
  try {
    const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
    const client = connect(address.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    const server = await accepted;
    return {
      client,
      server,
      close: () => {
        client.destroy();
        server.destroy();
      },
    };
  } finally {
    listener.close();
  }
}
