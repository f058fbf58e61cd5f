import type { Duplex } from 'node:stream';

/**
 * A reverse tunnel an edge agent holds open for one device: the agent's SSH connection plus the
 * `tcpip-forward` it registered (bind address = device id). The SSH front builds these from ssh2
 * connections; the registry and console sessions only see this interface.
 */
export interface AgentTunnel {
  readonly deviceId: string;
  /** Agent's source address, `ip:port`. */
  readonly peer: string;
  /** SHA256 fingerprint of the key the agent authenticated with. */
  readonly agentFingerprint: string;
  /** Virtual port the relay assigned to this registration; tells tunnels of one device apart. */
  readonly tunnelPort: number;
  /** When the tunnel was registered (ms since epoch). */
  readonly since: number;
  /** The agent's SSH software version string, e.g. `lifelineAgent_0.1.0`. */
  readonly agentVersion: string;
  /**
   * Opens a new stream to the agent for this device (an SSH `forwarded-tcpip` channel).
   * Rejects with LifelineError TUNNEL_CLOSED when the agent is gone or refuses the channel.
   */
  openStream(origin: { address: string; port: number }): Promise<Duplex>;
  /** Closes the agent's whole SSH connection, e.g. because a newer tunnel replaced it. */
  close(reason: string): void;
  /**
   * Ends this device's tunnel alone (the device left the inventory, or its agent key changed):
   * onClosed fires, streams are refused from then on, and the agent's connection ends only if it
   * served nothing else, so the agent's other devices on it stay up.
   */
  drop(reason: string): void;
  /** Called once when the agent's connection ends or the forwarding is cancelled. */
  onClosed(listener: () => void): void;
}

/** The outcome of one loopback health check, as the relay saw it pass through. */
export interface HealthCheckRecord {
  at: number;
  ok: boolean;
  rttMs?: number;
  error?: string;
}

/** Where the SSH front hands tunnels once an agent has registered them. */
export interface TunnelRegistrar {
  /** A new tunnel for its device; it replaces (and closes) an older one for the same device. */
  add(tunnel: AgentTunnel): void;
  /** The tunnel serving a device now: where an agent's health-check probe is routed. */
  current(deviceId: string): AgentTunnel | undefined;
  recordCheck(deviceId: string, check: HealthCheckRecord): void;
}
