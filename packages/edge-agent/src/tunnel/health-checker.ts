import type { Duplex } from 'node:stream';
import {
  decodeProbe,
  encodeProbe,
  newProbeNonce,
  readProbeLine,
  systemClock,
  type Clock,
  type Logger,
  type TimerHandle,
} from '@lifeline/shared/core';
import type { ProbeResponder } from './probe-responder.js';

export interface HealthResult {
  deviceId: string;
  ok: boolean;
  rttMs?: number;
  error?: string;
  at: number;
}

export interface HealthCheckerOptions {
  /**
   * Opens a probe channel to the relay on the tunnel's own SSH connection (RelayTunnel.openProbe):
   * no login per check, and the relay the forwards live on is the one asked. Rejects when the
   * tunnel is not connected; may never settle on a link that carries nothing (the timeout covers it).
   */
  openProbe: (deviceId: string) => Promise<Duplex>;
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
  /** For the spread of the first check after a connect; Math.random unless a test fixes it. */
  random?: () => number;
}

/**
 * Share of the interval over which the first check after a connect is spread: after a relay
 * restart thousands of agents connect within seconds, and their first probes should not all land
 * in the same second; a quarter keeps the LED's wait for its first proof short (15 s at most by default).
 */
export const FIRST_CHECK_SPREAD = 0.25;

/**
 * Proves the whole path end to end, as the relay will use it for people: over the tunnel's own
 * SSH connection, asks the relay for its own device (a `direct-tcpip` channel from PROBE_ORIGIN);
 * the relay sends that through the registered reverse tunnel back to this agent, which answers
 * only its own fresh nonce. A connection SSH thinks is up but that carries nothing fails the
 * check by its timeout. Runs at a random point in the first share of the interval after the
 * tunnel is up, then every `intervalMs`; keeps the round-trip time.
 */
export class HealthChecker {
  private timer: TimerHandle | undefined;
  private running = false;
  private failures = 0;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;

  constructor(private readonly options: HealthCheckerOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger.child({ component: 'health-check' });
  }

  /** The tunnel is (again) connected: check soon (spread, FIRST_CHECK_SPREAD), then on the interval. */
  tunnelUp(): void {
    this.failures = 0;
    this.schedule(Math.floor(this.random() * this.options.intervalMs * FIRST_CHECK_SPREAD));
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
    let channel: Duplex | undefined;
    const result = await new Promise<HealthResult>((resolve) => {
      let settled = false;
      const settle = (ok: boolean, error?: string) => {
        if (settled) return;
        settled = true;
        timeout.cancel();
        const result: HealthResult = { deviceId, ok, at: this.clock.now(), ...(ok ? { rttMs: this.clock.now() - started } : { error }) };
        this.logger[ok ? 'debug' : 'warn'](
          { event: 'health.check', deviceId, ok, rttMs: result.rttMs, error },
          ok ? 'health check passed' : 'health check failed',
        );
        resolve(result);
      };
      const timeout = this.clock.setTimeout(() => settle(false, `no answer within ${this.options.timeoutMs} ms`), this.options.timeoutMs);
      this.options.openProbe(deviceId).then(
        (opened) => {
          opened.on('error', () => undefined);
          // A channel that opens after its check timed out is closed at once (below or here).
          channel = opened;
          if (settled) return void opened.destroy();
          opened.write(encodeProbe(nonce));
          void readProbeLine(opened).then((line) => {
            // A channel that closes without the line (readLine sees the close) comes back empty.
            if (line === undefined) settle(false, 'the probe came back empty');
            else settle(decodeProbe(line) === nonce, 'the probe came back with another nonce');
          });
        },
        (err: Error) => settle(false, `relay refused the probe: ${err.message}`),
      );
    });
    stopExpecting();
    channel?.destroy();
    return result;
  }
}
