import type { Duplex } from 'node:stream';
import type ssh2 from 'ssh2';
import {
  GROUP_ORIGIN,
  MAX_GROUP_LINE,
  MAX_RETURN_LINE,
  decodeGroupNotice,
  readLines,
  type GroupNotice,
  PROBE_ORIGIN,
  POWER_ORIGIN,
  RETURN_ORIGIN,
  decodeReturnNotice,
  readLine,
  Backoff,
  LifelineError,
  systemClock,
  type Clock,
  type Logger,
  type TimerHandle,
} from '@lifeline/shared/core';
import { relayName, type RelayAddress, type RelayDialer } from './relay-dialer.js';

/**
 * initial -> connecting -> connected -> (backoff -> connecting ...) -> closed, as Teleport's agent.
 * `connected` means the SSH session is up AND the relay accepted the tunnel for every device.
 */
export type TunnelState = 'initial' | 'connecting' | 'connected' | 'backoff' | 'closed';

/**
 * A tunnel up this long counts as stable, and the next failure retries from the bottom of the
 * backoff. Not configurable: it only tells a relay that keeps dropping the agent at once (backoff
 * grows) from one that was lost after a while (retry fast); reconnect.baseMs and capMs are the keys.
 */
export const STABLE_MS = 60_000;

export interface RelayTunnelOptions {
  /** Reaches a relay: the primary first, then its alternates (the dialer's `targets`). */
  dialer: Pick<RelayDialer, 'dial' | 'targets'>;
  /** Device ids this agent serves; each becomes a tcpip-forward whose bind address is the id. */
  deviceIds: string[];
  reconnect: { baseMs: number; capMs: number };
  /** Connected this long counts as stable: the next failure starts the backoff from the bottom; STABLE_MS unless a test says otherwise. */
  stableMs?: number;
  /** A stream the relay opened to one of our devices. */
  onStream(deviceId: string, stream: Duplex): void;
  /** A stream carrying a health-check probe back to us (originator PROBE_ORIGIN). */
  onProbe?: (deviceId: string, stream: Duplex) => void;
  /** A stream carrying one power request (originator POWER_ORIGIN). */
  onPower?: (deviceId: string, stream: Duplex) => void;
  onStateChange?(change: { from: TunnelState; to: TunnelState; error?: LifelineError }): void;
  /**
   * A relay group member told us the group's members (docs/protocol.md): asked for once the
   * tunnel is connected, then again on every change, for as long as the connection lasts. A relay
   * alone refuses the request; nothing is called then. Without this option nothing is asked.
   */
  onGroupNotice?(notice: GroupNotice): void;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
}

/**
 * Dials OUT to the relay (no inbound firewall rule needed) through the agent's RelayDialer, and
 * keeps a reverse tunnel per device so the relay can open console streams back to this agent.
 * Reconnects with exponential backoff and full jitter for as long as it runs.
 */
export class RelayTunnel {
  private current: TunnelState = 'initial';
  private client: ssh2.Client | undefined;
  /** Abandons the attempt under way (stop() while dialling). */
  private attempt: AbortController | undefined;
  private retryTimer: TimerHandle | undefined;
  private connectedAt = 0;
  /** Which relay address the next attempt uses: advances on failure, back to the primary after a connection. */
  private targetIndex = 0;
  private lastError: LifelineError | undefined;
  /** The relay is stopping and asked us back after this long (a RETURN notice on this connection). */
  private returnAfterMs: number | undefined;
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

  /**
   * Opens a health-check probe channel for `deviceId` on this tunnel's own connection
   * (`direct-tcpip` from PROBE_ORIGIN, which the relay routes back through the device's
   * registered tunnel). Rejects with TUNNEL_CLOSED while not connected; on a link that carries
   * nothing it may never settle, so the caller bounds it.
   */
  openProbe(deviceId: string): Promise<Duplex> {
    const client = this.client;
    if (!client || this.current !== 'connected') {
      return Promise.reject(new LifelineError('TUNNEL_CLOSED', 'the tunnel is not connected'));
    }
    return new Promise((resolve, reject) => {
      client.forwardOut(PROBE_ORIGIN, 0, deviceId, 0, (err, channel) => {
        if (err) reject(new LifelineError('TUNNEL_CLOSED', err.message, { cause: err }));
        else resolve(channel);
      });
    });
  }

  start(): void {
    if (this.current !== 'initial') throw new Error('RelayTunnel.start() called twice');
    this.connect();
  }

  /** Closes the connection and stops reconnecting. */
  stop(): Promise<void> {
    this.retryTimer?.cancel();
    this.attempt?.abort();
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
    const { targets } = this.options.dialer;
    const target = targets[this.targetIndex % targets.length]!;
    const attempt = new AbortController();
    this.attempt = attempt;
    this.options.dialer.dial(target, attempt.signal).then(
      ({ client }) => {
        if (this.attempt !== attempt || this.current === 'closed') {
          client.end();
          return;
        }
        this.attempt = undefined;
        this.client = client;
        this.returnAfterMs = undefined;
        this.serve(client, target);
      },
      (err: LifelineError) => {
        if (this.attempt !== attempt || this.current === 'closed') return;
        this.attempt = undefined;
        this.lastError = err;
        this.retry(false);
      },
    );
  }

  /** Logged in to `target`: asks for the forwards and hands the streams the relay opens to their handlers. */
  private serve(client: ssh2.Client, target: RelayAddress): void {
    client.on('tcp connection', (info, accept, reject) => {
      // The bind address we registered is the device id; refuse anything else.
      if (!this.options.deviceIds.includes(info.destIP)) {
        this.logger.warn({ event: 'tunnel.stream.refused', destIP: info.destIP }, 'relay opened a stream for a device we do not serve');
        reject();
        return;
      }
      if (info.srcIP === RETURN_ORIGIN) {
        this.takeReturnNotice(accept());
        return;
      }
      if (info.srcIP === PROBE_ORIGIN || info.srcIP === POWER_ORIGIN) {
        const handler = info.srcIP === PROBE_ORIGIN ? this.options.onProbe : this.options.onPower;
        if (handler) handler(info.destIP, accept());
        else reject();
        return;
      }
      this.options.onStream(info.destIP, accept());
    });
    client.on('error', (err: Error) => {
      this.lastError ??= new LifelineError('TUNNEL_CLOSED', `connection to relay ${relayName(target)} failed: ${err.message}`, {
        cause: err,
      });
    });
    client.on('close', () => this.connectionClosed(client));
    this.registerForwards(client);
  }

  /** The relay is stopping gracefully and says when to come back (docs/protocol.md); the first notice counts. */
  private takeReturnNotice(stream: Duplex): void {
    stream.on('error', () => undefined);
    void readLine(stream, MAX_RETURN_LINE).then((line) => {
      stream.destroy();
      const delayMs = line === undefined ? undefined : decodeReturnNotice(line);
      if (delayMs === undefined || this.returnAfterMs !== undefined) return;
      this.returnAfterMs = delayMs;
      this.logger.info(
        { event: 'tunnel.return-notice', delayMs },
        `the relay is stopping; coming back in ${(delayMs / 1000).toFixed(1)} s`,
      );
    });
  }

  /** Asks the relay for its group's members on a stream of their own (GROUP_ORIGIN, named after our first device). */
  private askForGroup(client: ssh2.Client): void {
    const deviceId = this.options.deviceIds[0];
    if (!this.options.onGroupNotice || deviceId === undefined) return;
    const onNotice = (notice: GroupNotice) => this.options.onGroupNotice?.(notice);
    client.forwardOut(GROUP_ORIGIN, 0, deviceId, 0, (err, stream) => {
      if (err) {
        this.logger.debug({ event: 'tunnel.group.none', err: err.message }, 'the relay is not in a group');
        return;
      }
      stream.on('error', () => undefined);
      if (client !== this.client) return void stream.destroy();
      let unknownVersion = false;
      readLines(stream, MAX_GROUP_LINE, (line) => {
        const decoded = decodeGroupNotice(line);
        if (decoded.kind === 'notice') return onNotice(decoded.notice);
        // A newer relay's message: what we had stays; said once per connection.
        if (decoded.kind === 'unknown-version' && !unknownVersion) {
          unknownVersion = true;
          this.logger.warn(
            { event: 'tunnel.group.unknown-version', version: decoded.version },
            'the relay sent a group notice version this agent does not know',
          );
        } else if (decoded.kind === 'invalid')
          this.logger.warn({ event: 'tunnel.group.invalid' }, 'the relay sent a group notice that is not valid');
      });
    });
  }

  private registerForwards(client: ssh2.Client): void {
    let pending = this.options.deviceIds.length;
    for (const deviceId of this.options.deviceIds) {
      client.forwardIn(deviceId, 0, (err) => {
        if (client !== this.client) return;
        if (err) {
          this.lastError = new LifelineError(
            'TUNNEL_FORWARD_REJECTED',
            `relay refused the tunnel for device ${deviceId} (is this agent's key enrolled for it?)`,
            { cause: err },
          );
          client.end();
          return;
        }
        pending -= 1;
        if (pending === 0) {
          this.connectedAt = this.clock.now();
          this.transition('connected');
          this.askForGroup(client);
        }
      });
    }
  }

  private connectionClosed(client: ssh2.Client): void {
    if (client !== this.client) return;
    this.client = undefined;
    if (this.current === 'closed') return;
    this.retry(this.current === 'connected');
  }

  private retry(wasConnected: boolean): void {
    if (wasConnected && this.clock.now() - this.connectedAt >= (this.options.stableMs ?? STABLE_MS)) this.backoff.reset();
    // After a failed attempt try the next relay address; after a lost connection, the primary again.
    this.targetIndex = wasConnected ? 0 : this.targetIndex + 1;
    const returnAfter = this.returnAfterMs;
    this.returnAfterMs = undefined;
    if (returnAfter !== undefined) this.backoff.reset();
    const error =
      returnAfter !== undefined
        ? new LifelineError('TUNNEL_CLOSED', 'the relay stopped and asked this agent to come back later')
        : (this.lastError ?? new LifelineError('TUNNEL_CLOSED', 'connection to the relay closed'));
    // The relay's own delay for this agent, spread over its fleet; then the backoff as usual.
    const delay = returnAfter ?? this.backoff.next();
    this.transition('backoff', error);
    const log =
      error.code === 'TUNNEL_HOSTKEY_MISMATCH' || error.code === 'TUNNEL_AUTH_REJECTED'
        ? this.logger.error.bind(this.logger)
        : this.logger.warn.bind(this.logger);
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
