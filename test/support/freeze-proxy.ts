import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
}

/**
 * A TCP proxy of the tests' own between agent and relay, standing in for a cellular link: it can
 * freeze (pass nothing, send no FIN or RST, as a stalled 4G link does) and be released. Freezing
 * only the existing connections leaves a stale tunnel on the relay while new connections pass.
 */
export class FreezeProxy {
  private readonly pairs = new Set<Pair>();
  private frozenForNew = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: () => number): Promise<FreezeProxy> {
    // Assigned below: the server callback needs the proxy, the proxy needs the server.
    // eslint-disable-next-line prefer-const
    let proxy: FreezeProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetPort()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    proxy = new FreezeProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  /** Everything, existing and new connections, stops passing. */
  freeze(): void {
    this.frozenForNew = true;
    for (const pair of this.pairs) pair.frozen = true;
  }

  /** Only the connections open now stop passing; new ones work. */
  freezeExisting(): void {
    for (const pair of this.pairs) pair.frozen = true;
  }

  /** Frozen connections stay dead (their bytes were lost); new connections pass again. */
  release(): void {
    this.frozenForNew = false;
  }

  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream, frozen: this.frozenForNew };
    this.pairs.add(pair);
    // Bytes on a frozen pair are swallowed: the far side sees silence, not a reset.
    client.on('data', (d) => pair.frozen || upstream.write(d));
    upstream.on('data', (d) => pair.frozen || client.write(d));
    const drop = () => {
      this.pairs.delete(pair);
      if (!pair.frozen) {
        client.destroy();
        upstream.destroy();
      }
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }
}
