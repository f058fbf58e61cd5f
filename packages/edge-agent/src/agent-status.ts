import type { ConsoleStatus, LifelineError } from '@lifeline/shared';
import type { IndicatorState, StatusIndicator } from './led/status-indicator.js';
import type { HealthResult } from './tunnel/health-checker.js';
import type { TunnelState } from './tunnel/relay-tunnel.js';

/** Tunnel errors a person on site must act on: retrying alone will not fix them. */
const NEEDS_ATTENTION = new Set(['TUNNEL_HOSTKEY_MISMATCH', 'TUNNEL_AUTH_REJECTED', 'TUNNEL_FORWARD_REJECTED']);

/**
 * Folds what the agent knows (tunnel state, last health check, console state) into the one thing
 * the status LED shows. Healthy means proven: the tunnel is up AND the last loopback check passed
 * AND the console is there, as Teleport counts an agent connected only after its first heartbeat.
 */
export class AgentStatus {
  private tunnelState: TunnelState = 'initial';
  private tunnelError: LifelineError | undefined;
  private lastCheck: HealthResult | undefined;
  private consoleStatus: ConsoleStatus | undefined;

  constructor(private readonly indicator: StatusIndicator) {}

  tunnel(to: TunnelState, error?: LifelineError): void {
    this.tunnelState = to;
    if (to === 'connected') this.tunnelError = undefined;
    else if (error) this.tunnelError = error;
    // A new connection has proven nothing yet.
    if (to !== 'connected') this.lastCheck = undefined;
    this.update();
  }

  health(result: HealthResult): void {
    this.lastCheck = result;
    this.update();
  }

  console(status: ConsoleStatus): void {
    this.consoleStatus = status;
    this.update();
  }

  traffic(): void {
    this.indicator.traffic();
  }

  private update(): void {
    const [state, reason] = this.decide();
    this.indicator.setState(state, reason);
  }

  private decide(): [IndicatorState, string] {
    if (this.tunnelState !== 'connected' && this.tunnelError && NEEDS_ATTENTION.has(this.tunnelError.code)) {
      return ['fault', this.tunnelError.message];
    }
    if (this.consoleStatus?.state === 'down') return ['fault', this.consoleStatus.message ?? 'console down'];
    if (this.tunnelState !== 'connected') return ['searching', this.tunnelError?.message ?? 'connecting to the relay'];
    if (!this.lastCheck) return ['searching', 'tunnel up, waiting for the first health check'];
    if (!this.lastCheck.ok) return ['searching', `health check failed: ${this.lastCheck.error ?? '?'}`];
    return ['healthy', `tunnel up, health check passed in ${this.lastCheck.rttMs} ms`];
  }
}
