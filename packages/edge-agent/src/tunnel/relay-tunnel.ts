import { lookup as dnsLookup } from 'node:dns/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import {
  AGENT_LOGIN_NAME,
  PROBE_ORIGIN,
  POWER_ORIGIN,
  Backoff,
  LifelineError,
  systemClock,
  type Clock,
  type Logger,
  type TimerHandle,
} from '@lifeline/shared';
import { HostKeyPin } from './host-key-pin.js';

/**
 * initial -> connecting -> connected -> (backoff -> connecting ...) -> closed, as Teleport's agent.
 * `connected` means the SSH session is up AND the relay accepted the tunnel for every device.
 */
export type TunnelState = 'initial' | 'connecting' | 'connected' | 'backoff' | 'closed';

export interface RelayAddress {
  host: string;
  port: number;
}

export interface RelayTunnelOptions {
  /** `alternates` are tried in order after the primary fails (relays of one group share a host key). */
  relay: { host: string; port: number; hostKey: string; alternates?: RelayAddress[] };
  /** Resolves a host name to an address, afresh on every attempt (default: the system resolver). */
  lookup?: (host: string) => Promise<string>;
  /** Device ids this agent serves; each becomes a tcpip-forward whose bind address is the id. */
  deviceIds: string[];
  privateKey: Buffer;
  reconnect: { baseMs: number; capMs: number };
  /** Connected this long counts as stable: the next failure starts the backoff from the bottom. */
  stableMs?: number;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** A stream the relay opened to one of our devices. */
  onStream(deviceId: string, stream: Duplex): void;
  /** A stream carrying a health-check probe back to us (originator PROBE_ORIGIN). */
  onProbe?(deviceId: string, stream: Duplex): void;
  /** A stream carrying one power request (originator POWER_ORIGIN). */
  onPower?(deviceId: string, stream: Duplex): void;
  /** The SSH software version we announce, so the relay can show it. */
  ident?: string;
  onStateChange?(change: { from: TunnelState; to: TunnelState; error?: LifelineError }): void;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
}

/**
 * Dials OUT to the relay (no inbound firewall rule needed), pins its host key, and keeps a reverse
 * tunnel per device so the relay can open console streams back to this agent. Reconnects with
 * exponential backoff and full jitter for as long as it runs.
 */
export class RelayTunnel {
  private current: TunnelState = 'initial';
  private client: ssh2.Client | undefined;
  private retryTimer: TimerHandle | undefined;
  private connectedAt = 0;
  /** Which relay address the next attempt uses: advances on failure, back to the primary after a connection. */
  private targetIndex = 0;
  private lastError: LifelineError | undefined;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly options: RelayTunnelOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'relay-tunnel' });
    this.backoff = new Backoff({ ...options.reconnect, random: options.random });
  }

  get state(): TunnelState {
    return this.current;
  }

  start(): void {
    if (this.current !== 'initial') throw new Error('RelayTunnel.start() called twice');
    this.connect();
  }

  /** Closes the connection and stops reconnecting. */
  stop(): Promise<void> {
    this.retryTimer?.cancel();
    const client = this.client;
    this.client = undefined;
    this.transition('closed');
    if (!client) return Promise.resolve();
    return new Promise((resolve) => {
      client.once('close', () => resolve());
      client.end();
      // A dead link may never deliver 'close'; don't hold shutdown hostage to it.
      this.clock.setTimeout(() => {
        client.destroy();
        resolve();
      }, 2_000);
    });
  }

  /**
   * Drops the current connection and reconnects after the usual backoff: the health check found
   * the tunnel does not carry anything although SSH still looks up.
   */
  restart(reason: string): void {
    const client = this.client;
    if (!client || this.current === 'closed') return;
    this.lastError = new LifelineError('TUNNEL_UNHEALTHY', `tunnel restarted: ${reason}`);
    client.destroy();
  }

  private connect(): void {
    this.transition('connecting');
    this.lastError = undefined;
    const { relay } = this.options;
    const targets: RelayAddress[] = [{ host: relay.host, port: relay.port }, ...(relay.alternates ?? [])];
    const target = targets[this.targetIndex % targets.length]!;
    const name = `${target.host}:${target.port}`;
    const client = new ssh2.Client();
    this.client = client;
    const hostKey = new HostKeyPin(relay.hostKey);

    client.on('ready', () => this.registerForwards(client));
    client.on('tcp connection', (info, accept, reject) => {
      // The bind address we registered is the device id; refuse anything else.
      if (!this.options.deviceIds.includes(info.destIP)) {
        this.logger.warn({ event: 'tunnel.stream.refused', destIP: info.destIP }, 'relay opened a stream for a device we do not serve');
        reject();
        return;
      }
      if (info.srcIP === PROBE_ORIGIN || info.srcIP === POWER_ORIGIN) {
        const handler = info.srcIP === PROBE_ORIGIN ? this.options.onProbe : this.options.onPower;
        if (handler) handler.call(this.options, info.destIP, accept());
        else reject();
        return;
      }
      this.options.onStream(info.destIP, accept());
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (hostKey.mismatched) {
        this.lastError = hostKey.mismatchError(name, err);
      } else if (err.level === 'client-authentication') {
        this.lastError = new LifelineError('TUNNEL_AUTH_REJECTED', `relay ${name} refused this agent's key (is it enrolled for the device?)`, { cause: err });
      } else if (!this.lastError) {
        this.lastError = new LifelineError('TUNNEL_CONNECT_FAILED', `cannot reach relay ${name}: ${err.message}`, { cause: err });
      }
    });
    client.on('close', () => this.connectionClosed(client));

    // We dial the TCP connection ourselves: the name is resolved afresh on every attempt (a relay
    // that moved is found again), and the address tried shows in the log.
    this.dial(target).then(
      (sock) => {
        if (this.client !== client) {
          sock.destroy();
          return;
        }
        client.connect({
          sock,
          username: AGENT_LOGIN_NAME,
          privateKey: this.options.privateKey,
          ...(this.options.ident ? { ident: this.options.ident } : {}),
          readyTimeout: this.options.readyTimeoutMs ?? 20_000,
          keepaliveInterval: this.options.keepaliveIntervalMs ?? 15_000,
          keepaliveCountMax: this.options.keepaliveCountMax ?? 3,
          hostVerifier: hostKey.verify,
        });
      },
      (err: LifelineError) => {
        if (this.client !== client) return;
        this.lastError = err;
        this.connectionClosed(client);
      },
    );
  }

  /** Resolves and connects to one relay address; rejects with TUNNEL_CONNECT_FAILED. */
  private async dial(target: RelayAddress): Promise<Socket> {
    const name = `${target.host}:${target.port}`;
    let address: string;
    try {
      address = await (this.options.lookup ?? defaultLookup)(target.host);
    } catch (err) {
      throw new LifelineError('TUNNEL_CONNECT_FAILED', `cannot resolve relay ${target.host}: ${(err as Error).message}`, { cause: err });
    }
    this.logger.debug({ event: 'tunnel.dial', relay: name, address }, 'dialling relay');
    return new Promise<Socket>((resolve, reject) => {
      const sock = tcpConnect({ host: address, port: target.port });
      const timer = this.clock.setTimeout(() => {
        sock.destroy();
        reject(new LifelineError('TUNNEL_CONNECT_FAILED', `cannot reach relay ${name} (${address}): no answer within ${this.options.readyTimeoutMs ?? 20_000} ms`));
      }, this.options.readyTimeoutMs ?? 20_000);
      sock.once('connect', () => {
        timer.cancel();
        // Console traffic is many small writes: Nagle would hold keystroke echoes back ~40 ms.
        sock.setNoDelay(true);
        resolve(sock);
      });
      sock.once('error', (err) => {
        timer.cancel();
        reject(new LifelineError('TUNNEL_CONNECT_FAILED', `cannot reach relay ${name} (${address}): ${err.message}`, { cause: err }));
      });
    });
  }

  private registerForwards(client: ssh2.Client): void {
    let pending = this.options.deviceIds.length;
    for (const deviceId of this.options.deviceIds) {
      client.forwardIn(deviceId, 0, (err) => {
        if (client !== this.client) return;
        if (err) {
          this.lastError = new LifelineError('TUNNEL_FORWARD_REJECTED', `relay refused the tunnel for device ${deviceId} (is this agent's key enrolled for it?)`, { cause: err });
          client.end();
          return;
        }
        pending -= 1;
        if (pending === 0) {
          this.connectedAt = this.clock.now();
          this.transition('connected');
        }
      });
    }
  }

  private connectionClosed(client: ssh2.Client): void {
    if (client !== this.client) return;
    this.client = undefined;
    if (this.current === 'closed') return;
    const wasConnected = this.current === 'connected';
    if (wasConnected && this.clock.now() - this.connectedAt >= (this.options.stableMs ?? 60_000)) this.backoff.reset();
    // After a failed attempt try the next relay address; after a lost connection, the primary again.
    this.targetIndex = wasConnected ? 0 : this.targetIndex + 1;
    const error = this.lastError ?? new LifelineError('TUNNEL_CLOSED', 'connection to the relay closed');
    const delay = this.backoff.next();
    this.transition('backoff', error);
    const log = error.code === 'TUNNEL_HOSTKEY_MISMATCH' || error.code === 'TUNNEL_AUTH_REJECTED' ? this.logger.error.bind(this.logger) : this.logger.warn.bind(this.logger);
    log({ event: 'tunnel.retry', code: error.code, delayMs: delay, failures: this.backoff.failures }, error.message);
    this.retryTimer = this.clock.setTimeout(() => this.connect(), delay);
  }

  private transition(to: TunnelState, error?: LifelineError): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.logger.info({ event: 'tunnel.state', from, to, ...(error ? { code: error.code } : {}) }, `tunnel ${to}`);
    this.options.onStateChange?.({ from, to, ...(error ? { error } : {}) });
  }
}

async function defaultLookup(host: string): Promise<string> {
  return (await dnsLookup(host)).address;
}
