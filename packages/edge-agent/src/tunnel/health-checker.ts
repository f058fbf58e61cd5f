import type { Duplex } from 'node:stream';
import type ssh2 from 'ssh2';
import {
  PROBE_ORIGIN,
  decodeProbe,
  encodeProbe,
  newProbeNonce,
  readProbeLine,
  systemClock,
  type Clock,
  type Logger,
  type TimerHandle,
} from '@lifeline/shared';
import type { RelayAddress, RelayDialer } from './relay-dialer.js';
import type { ProbeResponder } from './probe-responder.js';

export interface HealthResult {
  deviceId: string;
  ok: boolean;
  rttMs?: number;
  error?: string;
  at: number;
}

export interface HealthCheckerOptions {
  /** The agent's one dialer: the probe connection follows the tunnel's rules (host key, timeout, keepalive). */
  dialer: Pick<RelayDialer, 'dial'>;
  /**
   * The relay the tunnel is connected to (RelayTunnel.endpoint), asked afresh for every check:
   * the forwards live there only, so a tunnel on an alternate relay is checked on that relay.
   */
  endpoint(): RelayAddress | undefined;
  deviceIds: string[];
  intervalMs: number;
  timeoutMs: number;
  /** This many failed checks in a row mean the tunnel is broken: reconnect. */
  failuresBeforeReconnect: number;
  responder: ProbeResponder;
  onResult(result: HealthResult): void;
  onUnhealthy(reason: string): void;
  logger: Logger;
  clock?: Clock;
}

/**
 * Proves the whole path end to end, as the relay will use it for people: on a second,
 * short-lived SSH connection to the relay the tunnel is on, asks it for its own device; the relay sends that through
 * the registered reverse tunnel back to this agent, which answers only its own fresh nonce.
 * Runs once the tunnel is up and then every `intervalMs`; keeps the round-trip time.
 */
export class HealthChecker {
  private timer: TimerHandle | undefined;
  private running = false;
  private failures = 0;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly options: HealthCheckerOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'health-check' });
  }

  /** The tunnel is (again) connected: check right away, then on the interval. */
  tunnelUp(): void {
    this.failures = 0;
    this.schedule(0);
  }

  /** The tunnel is down: nothing to check until it is back. */
  tunnelDown(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  stop(): void {
    this.tunnelDown();
  }

  /** One round of checks, one per device; resolves with their results. */
  async checkNow(): Promise<HealthResult[]> {
    if (this.running) return [];
    this.running = true;
    try {
      const results = await Promise.all(this.options.deviceIds.map((deviceId) => this.probe(deviceId)));
      for (const result of results) this.options.onResult(result);
      if (results.every((r) => r.ok)) this.failures = 0;
      else if (++this.failures >= this.options.failuresBeforeReconnect) {
        const reason = results.find((r) => !r.ok)?.error ?? 'health check failed';
        this.failures = 0;
        this.options.onUnhealthy(reason);
      }
      return results;
    } finally {
      this.running = false;
    }
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => {
      void this.checkNow().finally(() => {
        if (this.timer) this.schedule(this.options.intervalMs);
      });
    }, ms);
  }

  private async probe(deviceId: string): Promise<HealthResult> {
    const started = this.clock.now();
    const nonce = newProbeNonce();
    const stopExpecting = this.options.responder.expect(nonce);
    const attempt = new AbortController();
    let client: ssh2.Client | undefined;
    const result = await new Promise<HealthResult>((resolve) => {
      let settled = false;
      const settle = (ok: boolean, error?: string) => {
        if (settled) return;
        settled = true;
        timeout.cancel();
        attempt.abort();
        const result: HealthResult = { deviceId, ok, at: this.clock.now(), ...(ok ? { rttMs: this.clock.now() - started } : { error }) };
        this.logger[ok ? 'debug' : 'warn'](
          { event: 'health.check', deviceId, ok, rttMs: result.rttMs, error },
          ok ? 'health check passed' : 'health check failed',
        );
        resolve(result);
      };
      const timeout = this.clock.setTimeout(() => settle(false, `no answer within ${this.options.timeoutMs} ms`), this.options.timeoutMs);
      const target = this.options.endpoint();
      if (!target) return settle(false, 'the tunnel is not connected');
      this.options.dialer.dial(target, attempt.signal).then(
        (dialed) => {
          client = dialed.client;
          if (settled) return void dialed.client.end();
          dialed.client.on('close', () => settle(false, 'probe connection closed'));
          dialed.client.forwardOut(PROBE_ORIGIN, 0, deviceId, 0, (err, channel: Duplex) => {
            if (err) return settle(false, `relay refused the probe: ${err.message}`);
            channel.on('error', () => undefined);
            channel.write(encodeProbe(nonce));
            void readProbeLine(channel).then((line) => {
              if (line === undefined) settle(false, 'the probe came back empty');
              else settle(decodeProbe(line) === nonce, 'the probe came back with another nonce');
            });
          });
        },
        (err: Error) => settle(false, `probe connection failed: ${err.message}`),
      );
    });
    stopExpecting();
    client?.end();
    return result;
  }
}
