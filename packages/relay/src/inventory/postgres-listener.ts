import pg from 'pg';
import { Backoff } from '@lifeline/shared/core';

export interface PostgresListenerOptions {
  connection: pg.ClientConfig;
  /** NOTIFY channels to LISTEN on (plain identifiers). */
  channels: string[];
  onNotification(channel: string, payload: string | undefined): void;
  /** The connection was lost; it is being made again with backoff. */
  onLost(): void;
  /** The connection is back after a loss: notifications sent meanwhile are gone, so the owner re-reads. */
  onBack(): void;
  /** Backoff of the reconnects (LISTEN_RECONNECT in postgres-inventory-store.ts unless a test shortens it). */
  reconnect: { baseMs: number; capMs: number };
}

/**
 * One dedicated PostgreSQL connection that LISTENs on some channels and comes back by itself
 * (backoff) when the server goes away: the change feed of the inventory store and of the relay
 * group. `open` throws node-postgres's error when the first connection cannot be made; after
 * that nothing throws, losses and returns are reported to `onLost` and `onBack`.
 */
export class PostgresListener {
  private client: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private closed = false;

  private constructor(private readonly options: PostgresListenerOptions) {
    this.backoff = new Backoff(options.reconnect);
  }

  static async open(options: PostgresListenerOptions): Promise<PostgresListener> {
    const listener = new PostgresListener(options);
    await listener.connect();
    return listener;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.options.connection);
    client.on('error', () => undefined);
    try {
      await client.connect();
      for (const channel of this.options.channels) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on('notification', (message) => this.options.onNotification(message.channel, message.payload));
    client.once('end', () => {
      if (this.closed || this.client !== client) return;
      this.client = undefined;
      this.options.onLost();
      this.scheduleReconnect();
    });
    this.client = client;
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        () => {
          if (this.closed) return;
          this.backoff.reset();
          this.options.onBack();
        },
        () => {
          if (!this.closed) this.scheduleReconnect();
        },
      );
    }, this.backoff.next());
  }
}
