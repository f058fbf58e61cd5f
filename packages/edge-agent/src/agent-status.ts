import type { ConsoleStatus, EnrolRefusal, LifelineError } from '@lifeline/shared/core';
import type { EnrolState } from './enrol/enrol-flow.js';
import type { StatusIndicator } from './led/status-indicator.js';
import type { IndicatorState } from './led/status-states.js';
import type { HealthResult } from './tunnel/health-checker.js';
import type { TunnelState } from './tunnel/relay-tunnel.js';

/** Tunnel errors a person on site must act on: retrying alone will not fix them. */
const NEEDS_ATTENTION = new Set(['TUNNEL_HOSTKEY_MISMATCH', 'TUNNEL_AUTH_REJECTED', 'TUNNEL_FORWARD_REJECTED']);

/** The LED state and the short reason (LIFELINE_REASON) for each refusal of an enrolment. */
const REFUSED: Record<EnrolRefusal, [IndicatorState, string]> = {
  unknown: ['refused-unknown-token', 'the relay does not know the enrolment token'],
  expired: ['refused-expired-token', 'the enrolment token has expired'],
  used: ['refused-used-token', 'the enrolment token was already used'],
  'other-device': ['refused-other-device', 'the enrolment token is for another device'],
  revoked: ['refused-revoked', "this Pi's key was revoked"],
};

/** What the LED shows while enrolling: reaching the relay, refused by it, or waiting for approval are told apart. */
function enrolmentShown(s: EnrolState): [IndicatorState, string] {
  switch (s.state) {
    case 'unreachable':
      return ['searching', `enrolling: cannot reach the relay: ${s.detail}`];
    case 'host-key-mismatch':
      return ['fault', `enrolling: the relay's host key is not the one in the enrolment file: ${s.detail}`];
    case 'refused':
      return REFUSED[s.reason];
    case 'pending':
      return ['waiting-approval', 'enrolled, waiting for approval on the relay'];
    case 'enrolled':
      return ['searching', 'enrolled, starting'];
  }
}

/**
 * Folds what the agent knows (enrolment, tunnel state, last health check, console state) into the
 * one thing the status LED shows. Healthy means proven: the tunnel is up AND the last loopback check passed
 * AND the console is there, as Teleport counts an agent connected only after its first heartbeat.
 */
export class AgentStatus {
  private tunnelState: TunnelState = 'initial';
  private tunnelError: LifelineError | undefined;
  /** Per device: one missing console is worth a person's attention. */
  private readonly consoles = new Map<string, ConsoleStatus>();
  /** Last check per device: healthy only when every device passed. */
  private readonly checks = new Map<string, HealthResult>();
  /** While enrolling, the enrolment's state is all there is to show. */
  private enrolling: [IndicatorState, string] | undefined;

  constructor(private readonly indicator: StatusIndicator) {}

  /** Where enrolment stands (before the agent runs); it decides the LED until the tunnel starts. */
  enrolment(state: EnrolState): void {
    this.enrolling = enrolmentShown(state);
    this.update();
  }

  tunnel(to: TunnelState, error?: LifelineError): void {
    this.enrolling = undefined;
    this.tunnelState = to;
    if (to === 'connected') this.tunnelError = undefined;
    else if (error) this.tunnelError = error;
    // A new connection has proven nothing yet.
    if (to !== 'connected') this.checks.clear();
    this.update();
  }

  health(result: HealthResult): void {
    this.checks.set(result.deviceId, result);
    this.update();
  }

  console(deviceId: string, status: ConsoleStatus): void {
    this.consoles.set(deviceId, status);
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
    if (this.enrolling) return this.enrolling;
    if (this.tunnelState !== 'connected' && this.tunnelError && NEEDS_ATTENTION.has(this.tunnelError.code)) {
      return ['fault', this.tunnelError.message];
    }
    const down = [...this.consoles.entries()].find(([, s]) => s.state === 'down');
    if (down) return ['fault', `${down[0]}: ${down[1].message ?? 'console down'}`];
    if (this.tunnelState !== 'connected') return ['searching', this.tunnelError?.message ?? 'connecting to the relay'];
    if (this.checks.size === 0) return ['searching', 'tunnel up, waiting for the first health check'];
    const failed = [...this.checks.values()].find((c) => !c.ok);
    if (failed) return ['searching', `health check of ${failed.deviceId} failed: ${failed.error ?? '?'}`];
    const rtt = Math.max(...[...this.checks.values()].map((c) => c.rttMs ?? 0));
    return ['healthy', `tunnel up, health check passed in ${rtt} ms`];
  }
}
