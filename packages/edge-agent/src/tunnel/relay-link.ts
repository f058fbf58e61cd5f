import type { Duplex } from 'node:stream';
import type { GroupNotice, LifelineError, Logger } from '@lifeline/shared/core';
import { HealthChecker, type HealthResult } from './health-checker.js';
import type { ProbeResponder } from './probe-responder.js';
import { RelayDialer, type RelayAddress } from './relay-dialer.js';
import { RelayTunnel, type TunnelState } from './relay-tunnel.js';

export interface RelayLinkSettings {
  hostKey: string;
  privateKey: Buffer;
  ident: string;
  deviceIds: string[];
  reconnect: { baseMs: number; capMs: number; connectTimeoutMs: number };
  keepalive: { intervalMs: number; countMax: number };
  health: { intervalMs: number; timeoutMs: number; failuresBeforeReconnect: number };
  responder: ProbeResponder;
  logger: Logger;
}

export interface RelayLinkHandlers {
  /** A console stream the relay opened; `source` names this link (its address). */
  onStream(deviceId: string, stream: Duplex, source: string): void;
  onPower(deviceId: string, stream: Duplex): void;
  onState(link: RelayLink, to: TunnelState, error?: LifelineError): void;
  onHealth(link: RelayLink, result: HealthResult): void;
  onGroupNotice(notice: GroupNotice): void;
}

/**
 * The agent's connection to one relay: its dialer (the address, and for the configured relay its
 * `alternates` too), its reverse tunnel with a forward per device, and its own loopback health
 * check, which restarts this tunnel alone when it fails. The agent holds one per relay of a group.
 */
export class RelayLink {
  readonly tunnel: RelayTunnel;
  private readonly checker: HealthChecker;
  /** Last check per device on this link (cleared when it disconnects). */
  readonly checks = new Map<string, HealthResult>();

  constructor(
    /** `host:port` of the first address: the name logs and console sources use. */
    readonly name: string,
    targets: { primary: RelayAddress; alternates: RelayAddress[] },
    settings: RelayLinkSettings,
    handlers: RelayLinkHandlers,
  ) {
    const logger = settings.logger.child({ relay: name });
    const dialer = new RelayDialer({
      relay: { ...targets.primary, hostKey: settings.hostKey, alternates: targets.alternates },
      privateKey: settings.privateKey,
      connectTimeoutMs: settings.reconnect.connectTimeoutMs,
      keepalive: settings.keepalive,
      ident: settings.ident,
      logger,
    });
    this.checker = new HealthChecker({
      openProbe: (deviceId) => this.tunnel.openProbe(deviceId),
      deviceIds: settings.deviceIds,
      intervalMs: settings.health.intervalMs,
      timeoutMs: settings.health.timeoutMs,
      failuresBeforeReconnect: settings.health.failuresBeforeReconnect,
      responder: settings.responder,
      logger,
      onResult: (result) => {
        this.checks.set(result.deviceId, result);
        handlers.onHealth(this, result);
      },
      onUnhealthy: (reason) => this.tunnel.restart(reason),
    });
    this.tunnel = new RelayTunnel({
      dialer,
      deviceIds: settings.deviceIds,
      reconnect: settings.reconnect,
      logger,
      onStream: (deviceId, stream) => handlers.onStream(deviceId, stream, name),
      onProbe: (_deviceId, stream) => settings.responder.answer(stream),
      onPower: (deviceId, stream) => handlers.onPower(deviceId, stream),
      onGroupNotice: (notice) => handlers.onGroupNotice(notice),
      onStateChange: ({ to, error }) => {
        if (to === 'connected') this.checker.tunnelUp();
        else {
          this.checker.tunnelDown();
          this.checks.clear();
        }
        handlers.onState(this, to, error);
      },
    });
  }

  get state(): TunnelState {
    return this.tunnel.state;
  }

  start(): void {
    this.tunnel.start();
  }

  checkHealth(): Promise<HealthResult[]> {
    return this.checker.checkNow();
  }

  async stop(): Promise<void> {
    this.checker.stop();
    await this.tunnel.stop();
  }
}
