import type { Duplex } from 'node:stream';
import { GROUP_ORIGIN, LifelineError, peerText, type Clock, type Logger } from '@lifeline/shared/core';
import type { Connection, TcpipBindInfo } from 'ssh2';
import type { AgentTunnel, TunnelRegistrar } from '../tunnel/agent-tunnel.js';
import { relayProbe } from '../tunnel/probe-relay.js';

export interface AgentConnectionOptions {
  /**
   * Whether the agent's key serves this device now (asked of the current inventory at each
   * request, so a reload that removes a device or changes its key applies at once).
   */
  serves(deviceId: string): boolean;
  /** SHA256 fingerprint of that key. */
  fingerprint: string;
  peer: string;
  /** The agent's SSH software version (its ident string), for the devices table. */
  agentVersion: string;
  tunnels: TunnelRegistrar;
  /** A relay group member: takes an agent's stream asking for the member list (GROUP_ORIGIN); none: refused. */
  groupNotices?: (stream: Duplex) => void;
  /** How long a health-check probe may take through the tunnel (`healthCheckTimeoutMs`). */
  probeTimeoutMs: number;
  clock: Clock;
  /** Child logger carrying peer and user. */
  logger: Logger;
}

const FIRST_TUNNEL_PORT = 10_000;
const LAST_TUNNEL_PORT = 65_535; // OpenSSH refuses an allocated port above this
let nextTunnelPort = FIRST_TUNNEL_PORT;

/**
 * Virtual ports for `tcpip-forward` with port 0, increasing across the whole process so a stale
 * tunnel and its replacement never share one.
 */
export function allocateTunnelPort(): number {
  const port = nextTunnelPort;
  nextTunnelPort = port >= LAST_TUNNEL_PORT ? FIRST_TUNNEL_PORT : port + 1;
  return port;
}

/** An AgentTunnel over one `tcpip-forward` of an agent's ssh2 connection. */
class SshAgentTunnel implements AgentTunnel {
  private closed = false;
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly conn: Connection,
    readonly deviceId: string,
    readonly tunnelPort: number,
    readonly peer: string,
    readonly agentFingerprint: string,
    readonly since: number,
    readonly agentVersion: string,
    private readonly logger: Logger,
    /** Forgets this tunnel on its connection; true when the connection serves nothing else then. */
    private readonly forget: () => boolean,
  ) {}

  openStream(origin: { address: string; port: number }): Promise<Duplex> {
    if (this.closed) return Promise.reject(new LifelineError('TUNNEL_CLOSED', `the tunnel for ${this.deviceId} is closed`));
    return new Promise((resolve, reject) => {
      // Must name exactly the address and port the agent registered, or it refuses the channel.
      this.conn.forwardOut(this.deviceId, this.tunnelPort, origin.address, origin.port, (err, channel) => {
        if (err) {
          reject(
            new LifelineError('TUNNEL_CLOSED', `the agent for ${this.deviceId} did not open a stream: ${err.message}`, { cause: err }),
          );
          return;
        }
        // Keep a stray channel error from taking the process down; the stream's user sees it too.
        channel.on('error', (e: Error) => this.logger.debug({ event: 'tunnel.stream-error', err: e }, 'tunnel stream error'));
        resolve(channel);
      });
    });
  }

  close(reason: string): void {
    this.logger.info({ event: 'tunnel.close', deviceId: this.deviceId, tunnelPort: this.tunnelPort, reason }, 'closing agent connection');
    this.conn.end();
  }

  drop(reason: string): void {
    if (this.closed) return;
    this.logger.info({ event: 'tunnel.dropped', deviceId: this.deviceId, tunnelPort: this.tunnelPort, reason }, 'tunnel dropped');
    const nothingLeft = this.forget();
    this.markClosed();
    if (nothingLeft) this.conn.end();
  }

  onClosed(listener: () => void): void {
    if (this.closed) queueMicrotask(listener);
    else this.listeners.push(listener);
  }

  /** Fires the onClosed listeners, once. */
  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.listeners.splice(0)) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ event: 'tunnel.listener-failed', err }, 'onClosed listener threw');
      }
    }
  }
}

/**
 * An authenticated agent's connection: it may register one reverse forward per device it serves
 * (`tcpip-forward`, bind address = device id, port 0), cancel its own, and open health-check
 * probes to its own devices; nothing else.
 */
export function serveAgentConnection(conn: Connection, options: AgentConnectionOptions): void {
  const { logger } = options;
  const own = new Map<string, SshAgentTunnel>();

  // Request names, bind addresses and destinations are the agent's text (an enrolled key, but
  // a stolen one must not write what it likes into the log either).
  const refuse = (request: string, reason: string, reject: (() => void) | undefined, detail: Record<string, string | number> = {}) => {
    const fields = Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, typeof v === 'number' ? v : peerText(v)]));
    logger.warn(
      { event: 'agent.request.refused', request: peerText(request), reason, ...fields },
      `refused ${peerText(request)} from agent: ${reason}`,
    );
    reject?.();
  };

  const forward = (
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
    { bindAddr, bindPort }: TcpipBindInfo,
  ) => {
    const detail = { bindAddr, bindPort };
    if (!options.serves(bindAddr)) return refuse('tcpip-forward', 'not a device of this agent key', reject, detail);
    if (bindPort !== 0) return refuse('tcpip-forward', 'port must be 0 (the relay picks one)', reject, detail);
    if (own.has(bindAddr)) return refuse('tcpip-forward', 'device already forwarded on this connection', reject, detail);
    if (!accept) return refuse('tcpip-forward', 'no reply wanted, so the agent could not learn its port', reject, detail);
    const port = allocateTunnelPort();
    accept(port);
    const tunnel = new SshAgentTunnel(
      conn,
      bindAddr,
      port,
      options.peer,
      options.fingerprint,
      options.clock.now(),
      options.agentVersion,
      logger,
      () => {
        if (own.get(bindAddr) === tunnel) own.delete(bindAddr);
        return own.size === 0;
      },
    );
    own.set(bindAddr, tunnel);
    // Debug: the registry's tunnel.up says the same at info level, with the agent's key and address.
    logger.debug({ event: 'tunnel.registered', deviceId: bindAddr, tunnelPort: port }, `tunnel registered for ${bindAddr}`);
    options.tunnels.add(tunnel);
  };

  const cancel = (accept: (() => void) | undefined, reject: (() => void) | undefined, { bindAddr, bindPort }: TcpipBindInfo) => {
    const tunnel = own.get(bindAddr);
    if (!tunnel || tunnel.tunnelPort !== bindPort)
      return refuse('cancel-tcpip-forward', 'no such forward on this connection', reject, { bindAddr, bindPort });
    own.delete(bindAddr);
    accept?.();
    logger.info({ event: 'tunnel.cancelled', deviceId: bindAddr, tunnelPort: bindPort }, `agent cancelled the tunnel for ${bindAddr}`);
    tunnel.markClosed();
  };

  conn.on('request', (accept: ((port?: number) => void) | undefined, reject: (() => void) | undefined, name: string, info: unknown) => {
    if (name === 'tcpip-forward') forward(accept, reject, info as TcpipBindInfo);
    else if (name === 'cancel-tcpip-forward') cancel(accept, reject, info as TcpipBindInfo);
    else refuse(name, 'not offered to agents', reject);
  });
  conn.on('session', (_accept, reject) => refuse('session', 'agents get no shell', reject));
  // The channels an agent may open, both named after one of its own devices: a loopback
  // health-check probe, routed back out through that device's registered tunnel (which may be
  // another connection's), and, in a relay group, the stream of member lists.
  conn.on('tcpip', (accept, reject, info) => {
    const deviceId = info.destIP;
    const detail = { destination: `${info.destIP}:${info.destPort}` };
    if (!options.serves(deviceId)) return refuse('direct-tcpip', 'only a health-check probe to its own device', reject, detail);
    // An agent asking which relays form the group (docs/protocol.md); a relay alone refuses it.
    if (info.srcIP === GROUP_ORIGIN) {
      if (!options.groupNotices) {
        // Every agent asks on every connection: the answer of a relay alone is routine, not a warning
        // (an agent login stays one line at info, tunnel.up).
        logger.debug({ event: 'agent.group-request.alone' }, 'agent asked for group members; this relay is not in a group');
        return reject?.();
      }
      return options.groupNotices(accept());
    }
    const tunnel = options.tunnels.current(deviceId);
    if (!tunnel) {
      options.tunnels.recordCheck(deviceId, { at: options.clock.now(), ok: false, error: 'no tunnel registered' });
      return refuse('direct-tcpip', 'health-check probe for a device with no tunnel', reject, detail);
    }
    const probe = accept();
    probe.on('error', () => undefined);
    void relayProbe({
      probe,
      tunnel,
      timeoutMs: options.probeTimeoutMs,
      clock: options.clock,
      logger,
      onResult: (check) => options.tunnels.recordCheck(deviceId, check),
    });
  });
  conn.on('openssh.streamlocal', (_accept, reject) => refuse('direct-streamlocal', 'not offered to agents', reject));
  conn.on('close', () => {
    for (const tunnel of own.values()) tunnel.markClosed();
    own.clear();
  });
}
