import type { Logger } from '@lifeline/shared';
import type { AgentTunnel, TunnelRegistrar } from './agent-tunnel.js';

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
  private readonly current = new Map<string, AgentTunnel>();
  private readonly listeners: TunnelListener[] = [];

  constructor(private readonly logger: Logger) {}

  subscribe(listener: TunnelListener): void {
    this.listeners.push(listener);
  }

  add(tunnel: AgentTunnel): void {
    const previous = this.current.get(tunnel.deviceId);
    this.current.set(tunnel.deviceId, tunnel);
    tunnel.onClosed(() => this.closed(tunnel));
    if (previous) {
      this.logger.info(
        { event: 'tunnel.replaced', deviceId: tunnel.deviceId, oldPeer: previous.peer, newPeer: tunnel.peer, oldPort: previous.tunnelPort, newPort: tunnel.tunnelPort },
        'newer tunnel replaces the old one',
      );
      previous.close('replaced by a newer tunnel for the same device');
    }
    this.logger.info({ event: 'tunnel.up', deviceId: tunnel.deviceId, peer: tunnel.peer, tunnelPort: tunnel.tunnelPort }, 'device online');
    for (const l of this.listeners) l.online(tunnel);
  }

  get(deviceId: string): AgentTunnel | undefined {
    return this.current.get(deviceId);
  }

  get size(): number {
    return this.current.size;
  }

  private closed(tunnel: AgentTunnel): void {
    // A replaced tunnel closing later must not take the device offline.
    if (this.current.get(tunnel.deviceId) !== tunnel) return;
    this.current.delete(tunnel.deviceId);
    this.logger.info({ event: 'tunnel.down', deviceId: tunnel.deviceId, peer: tunnel.peer, tunnelPort: tunnel.tunnelPort }, 'device offline');
    for (const l of this.listeners) l.offline(tunnel.deviceId);
  }
}
