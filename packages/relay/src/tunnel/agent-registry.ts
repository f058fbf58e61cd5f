import type { Logger } from '@lifeline/shared/core';
import type { AgentTunnel, HealthCheckRecord, TunnelRegistrar } from './agent-tunnel.js';

/** What `lifeline-relay devices` shows of one device. */
export interface DeviceStatus {
  deviceId: string;
  online: boolean;
  /** Since when the current tunnel is up, or since when the device is offline (ISO 8601). */
  since: string | undefined;
  peer: string | undefined;
  agentVersion: string | undefined;
  lastCheck: (Omit<HealthCheckRecord, 'at'> & { at: string }) | undefined;
}

export interface TunnelListener {
  /** A device's agent registered a tunnel (first one, or one replacing an older one). */
  online(tunnel: AgentTunnel): void;
  /** The device's current tunnel closed and no newer one replaced it. */
  offline(deviceId: string): void;
}

/**
 * Which tunnel serves each device right now. A new tunnel for a device wins at once and the older
 * one is closed, so an agent that reconnects is never locked out by its own stale tunnel.
 */
export class AgentRegistry implements TunnelRegistrar {
  private readonly tunnels = new Map<string, AgentTunnel>();
  private readonly listeners: TunnelListener[] = [];
  private readonly checks = new Map<string, HealthCheckRecord>();
  /** Last seen agent details, kept while a device is offline: where and what it was. */
  private readonly lastSeen = new Map<string, { peer: string; agentVersion: string; offlineSince: number | undefined }>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  subscribe(listener: TunnelListener): void {
    this.listeners.push(listener);
  }

  add(tunnel: AgentTunnel): void {
    const previous = this.tunnels.get(tunnel.deviceId);
    this.tunnels.set(tunnel.deviceId, tunnel);
    this.lastSeen.set(tunnel.deviceId, { peer: tunnel.peer, agentVersion: tunnel.agentVersion, offlineSince: undefined });
    tunnel.onClosed(() => this.closed(tunnel));
    if (previous) {
      this.logger.info(
        {
          event: 'tunnel.replaced',
          deviceId: tunnel.deviceId,
          oldPeer: previous.peer,
          newPeer: tunnel.peer,
          oldPort: previous.tunnelPort,
          newPort: tunnel.tunnelPort,
        },
        'newer tunnel replaces the old one',
      );
      previous.close('replaced by a newer tunnel for the same device');
    }
    // The one line an agent's login leaves at info level (its auth.success is debug): who
    // (key fingerprint, agent version), from where, for which device.
    this.logger.info(
      {
        event: 'tunnel.up',
        deviceId: tunnel.deviceId,
        peer: tunnel.peer,
        tunnelPort: tunnel.tunnelPort,
        fingerprint: tunnel.agentFingerprint,
        client: tunnel.agentVersion,
      },
      'device online',
    );
    for (const l of this.listeners) l.online(tunnel);
  }

  current(deviceId: string): AgentTunnel | undefined {
    return this.tunnels.get(deviceId);
  }

  /** Every tunnel up now, one per device. */
  all(): AgentTunnel[] {
    return [...this.tunnels.values()];
  }

  get size(): number {
    return this.tunnels.size;
  }

  recordCheck(deviceId: string, check: HealthCheckRecord): void {
    this.checks.set(deviceId, check);
    const level = check.ok ? 'info' : 'warn';
    this.logger[level](
      { event: 'health.check', deviceId, ok: check.ok, rttMs: check.rttMs, error: check.error },
      check.ok ? 'health check passed' : 'health check failed',
    );
  }

  status(deviceId: string): DeviceStatus {
    const tunnel = this.tunnels.get(deviceId);
    const seen = this.lastSeen.get(deviceId);
    const check = this.checks.get(deviceId);
    const since = tunnel ? tunnel.since : seen?.offlineSince;
    return {
      deviceId,
      online: tunnel !== undefined,
      since: since === undefined ? undefined : new Date(since).toISOString(),
      peer: seen?.peer,
      agentVersion: seen?.agentVersion,
      lastCheck: check ? { ...check, at: new Date(check.at).toISOString() } : undefined,
    };
  }

  private closed(tunnel: AgentTunnel): void {
    // A replaced tunnel closing later must not take the device offline.
    if (this.tunnels.get(tunnel.deviceId) !== tunnel) return;
    this.tunnels.delete(tunnel.deviceId);
    const seen = this.lastSeen.get(tunnel.deviceId);
    if (seen) seen.offlineSince = this.now();
    this.logger.info(
      { event: 'tunnel.down', deviceId: tunnel.deviceId, peer: tunnel.peer, tunnelPort: tunnel.tunnelPort },
      'device offline',
    );
    for (const l of this.listeners) l.offline(tunnel.deviceId);
  }
}
