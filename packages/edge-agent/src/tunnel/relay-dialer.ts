import { lookup as dnsLookup } from 'node:dns/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { AGENT_LOGIN_NAME, LifelineError, systemClock, type Clock, type Logger } from '@lifeline/shared/core';
import { HostKeyPin } from './host-key-pin.js';
import { AGENT_CIPHERS } from './ssh2-ciphers.js';

export interface RelayAddress {
  host: string;
  port: number;
}

export interface RelayDialerOptions {
  /** `alternates` are tried in order after the primary fails (relays of one group share a host key). */
  relay: { host: string; port: number; hostKey: string; alternates: RelayAddress[] };
  privateKey: Buffer;
  /** SSH user to log in as (default `lifeline-agent`; enrolment uses `lifeline-enrol`). */
  username?: string;
  /** Gives up on an attempt (TCP connect, then SSH handshake and login) after this long. */
  connectTimeoutMs: number;
  keepalive: { intervalMs: number; countMax: number };
  /** The SSH software version we announce, so the relay can show it. */
  ident?: string;
  /** Resolves a host name to an address, afresh on every attempt (default: the system resolver). */
  lookup?: (host: string) => Promise<string>;
  logger: Logger;
  clock?: Clock;
}

/** An SSH connection to a relay, logged in as the agent. */
export interface DialedRelay {
  client: ssh2.Client;
  /** The relay address it reached. */
  relay: RelayAddress;
}

/**
 * The agent's one way to reach a relay, used by the tunnel and by the health checker alike:
 * resolves the name afresh, connects with a timeout (Nagle off), pins the relay's host key, logs
 * in with the agent key and applies the keepalive. One dialer means one set of rules: a check
 * cannot reach a relay the tunnel would refuse, nor miss the one the tunnel is on.
 */
export class RelayDialer {
  /** The addresses in the order they are tried: the primary, then `relay.alternates`. */
  readonly targets: readonly RelayAddress[];
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly options: RelayDialerOptions) {
    const { relay } = options;
    this.targets = [{ host: relay.host, port: relay.port }, ...relay.alternates];
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'relay-dialer' });
  }

  /**
   * Connects and logs in to `target`. Resolves once the relay accepted the agent key; the
   * caller owns the client from then on (listen for its `close`).
   *
   * @throws LifelineError TUNNEL_HOSTKEY_MISMATCH (naming both keys), TUNNEL_AUTH_REJECTED,
   * TUNNEL_CONNECT_FAILED (unresolvable, unreachable, no answer in time), or TUNNEL_CLOSED when
   * `signal` aborts the attempt.
   */
  async dial(target: RelayAddress, signal?: AbortSignal): Promise<DialedRelay> {
    const name = relayName(target);
    const sock = await this.connectTcp(target, signal);
    const pin = new HostKeyPin(this.options.relay.hostKey);
    const client = new ssh2.Client();
    return new Promise<DialedRelay>((resolve, reject) => {
      let settled = false;
      const settle = (err?: LifelineError) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (!err) return resolve({ client, relay: target });
        client.destroy();
        reject(err);
      };
      const onAbort = () => settle(aborted(name));
      signal?.addEventListener('abort', onAbort);
      // Errors after login are the owner's to interpret (it sees `close`); this keeps them from throwing.
      client.on('error', (err: Error & { level?: string }) => {
        if (pin.mismatched) settle(pin.mismatchError(name, err));
        else if (err.level === 'client-authentication') {
          settle(
            new LifelineError('TUNNEL_AUTH_REJECTED', `relay ${name} refused this agent's key (is it enrolled for the device?)`, {
              cause: err,
            }),
          );
        } else settle(new LifelineError('TUNNEL_CONNECT_FAILED', `cannot reach relay ${name}: ${err.message}`, { cause: err }));
      });
      client.once('close', () => settle(new LifelineError('TUNNEL_CONNECT_FAILED', `relay ${name} closed the connection during login`)));
      client.once('ready', () => settle());
      client.connect({
        sock,
        username: this.options.username ?? AGENT_LOGIN_NAME,
        privateKey: this.options.privateKey,
        ...(this.options.ident ? { ident: this.options.ident } : {}),
        readyTimeout: this.options.connectTimeoutMs,
        keepaliveInterval: this.options.keepalive.intervalMs,
        keepaliveCountMax: this.options.keepalive.countMax,
        hostVerifier: pin.verify,
        algorithms: { cipher: AGENT_CIPHERS },
      });
    });
  }

  /** Resolves and connects one relay address: the name afresh every time, so a relay that moved is found again. */
  private async connectTcp(target: RelayAddress, signal?: AbortSignal): Promise<Socket> {
    const name = relayName(target);
    if (signal?.aborted) throw aborted(name);
    let address: string;
    try {
      address = await (this.options.lookup ?? defaultLookup)(target.host);
    } catch (err) {
      throw new LifelineError('TUNNEL_CONNECT_FAILED', `cannot resolve relay ${target.host}: ${(err as Error).message}`, { cause: err });
    }
    if (signal?.aborted) throw aborted(name);
    this.logger.debug({ event: 'tunnel.dial', relay: name, address }, 'dialling relay');
    const timeoutMs = this.options.connectTimeoutMs;
    return new Promise<Socket>((resolve, reject) => {
      const sock = tcpConnect({ host: address, port: target.port });
      const fail = (err: LifelineError) => {
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        sock.destroy();
        reject(err);
      };
      const onAbort = () => fail(aborted(name));
      signal?.addEventListener('abort', onAbort);
      const timer = this.clock.setTimeout(
        () => fail(new LifelineError('TUNNEL_CONNECT_FAILED', `cannot reach relay ${name} (${address}): no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      sock.once('connect', () => {
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        sock.removeAllListeners('error');
        // Console traffic is many small writes: Nagle would hold keystroke echoes back ~40 ms.
        sock.setNoDelay(true);
        resolve(sock);
      });
      sock.once('error', (err) =>
        fail(new LifelineError('TUNNEL_CONNECT_FAILED', `cannot reach relay ${name} (${address}): ${err.message}`, { cause: err })),
      );
    });
  }
}

/** "host:port", as logs and messages name a relay. */
export function relayName(target: RelayAddress): string {
  return `${target.host}:${target.port}`;
}

function aborted(name: string): LifelineError {
  return new LifelineError('TUNNEL_CLOSED', `attempt to reach relay ${name} abandoned`);
}

async function defaultLookup(host: string): Promise<string> {
  return (await dnsLookup(host)).address;
}
