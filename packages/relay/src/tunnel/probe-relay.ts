import type { Duplex } from 'node:stream';
import { PROBE_ORIGIN, encodeProbe, readProbeLine, decodeProbe, type Clock, type Logger } from '@lifeline/shared/core';
import type { AgentTunnel, HealthCheckRecord } from './agent-tunnel.js';

export interface ProbeRelayOptions {
  /** The agent's probe channel (a `direct-tcpip` to its own device id). */
  probe: Duplex;
  /** The tunnel the relay would use for people right now. */
  tunnel: AgentTunnel;
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
  onResult(check: HealthCheckRecord): void;
}

/**
 * Carries one loopback health check: the probe line from the agent's second connection goes out
 * through a fresh stream on the device's registered tunnel, exactly as a person's console stream
 * would, and the answer comes back. The relay checks the answer too, so it keeps its own record
 * of each device's last check.
 */
export async function relayProbe(options: ProbeRelayOptions): Promise<void> {
  const { probe, tunnel, clock } = options;
  const started = clock.now();
  let stream: Duplex | undefined;
  let finished = false;
  const finish = (check: Omit<HealthCheckRecord, 'at'>) => {
    if (finished) return;
    finished = true;
    options.onResult({ at: clock.now(), ...check });
    stream?.destroy();
    probe.end();
  };
  const timer = clock.setTimeout(
    () => finish({ ok: false, error: `no answer through the tunnel within ${options.timeoutMs} ms` }),
    options.timeoutMs,
  );
  try {
    const line = await readProbeLine(probe);
    const nonce = line === undefined ? undefined : decodeProbe(line);
    if (nonce === undefined) return finish({ ok: false, error: 'the agent sent no valid probe line' });
    stream = await tunnel.openStream({ address: PROBE_ORIGIN, port: 0 });
    const sent = clock.now();
    stream.write(encodeProbe(nonce));
    const answer = await readProbeLine(stream);
    if (answer === undefined || decodeProbe(answer) !== nonce) {
      return finish({
        ok: false,
        error: answer === undefined ? 'the tunnel closed without an answer' : 'the answer did not match the probe',
      });
    }
    probe.write(encodeProbe(nonce));
    finish({ ok: true, rttMs: clock.now() - sent });
  } catch (err) {
    finish({ ok: false, error: (err as Error).message });
  } finally {
    timer.cancel();
    options.logger.debug({ event: 'health.probe', deviceId: tunnel.deviceId, ms: clock.now() - started }, 'probe relayed');
  }
}
