import { RETURN_ORIGIN, encodeReturnNotice, type Clock, type Logger } from '@lifeline/shared/core';
import type { AgentTunnel } from './agent-tunnel.js';

export interface ReturnNoticeOptions {
  /** Logins per second the relay should see when the agents come back (relay.yaml `agentReturnRate`). */
  loginsPerSecond: number;
  /** The earliest delay, about how long a restart takes (relay.yaml `agentReturnAfterMs`). */
  afterMs: number;
  /** How long the notices may hold up the stop, in all. */
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
  random?: () => number;
}

/**
 * Tells every connected agent, before a graceful stop, when to come back (a RETURN notice on a
 * stream of its own through each tunnel, docs/protocol.md): delays spread evenly at random over
 * a window of `tunnels / loginsPerSecond` seconds (at least one) that opens `afterMs` from now,
 * once the relay should be listening again, so the relay that comes back sees a steady trickle
 * of logins instead of the whole fleet in the same second, and no agent finds the port closed
 * and falls back into its backoff. Never throws;
 * an agent that cannot be told falls back on its own backoff.
 */
export async function announceReturn(
  tunnels: readonly AgentTunnel[],
  options: ReturnNoticeOptions,
): Promise<{ windowMs: number; told: number }> {
  const random = options.random ?? Math.random;
  const windowMs = Math.max(1_000, Math.ceil((tunnels.length / options.loginsPerSecond) * 1_000));
  let told = 0;
  const tell = async (tunnel: AgentTunnel) => {
    try {
      const stream = await tunnel.openStream({ address: RETURN_ORIGIN, port: 0 });
      stream.on('error', () => undefined);
      await new Promise<void>((resolve) => stream.end(encodeReturnNotice(options.afterMs + random() * windowMs), () => resolve()));
      told += 1;
    } catch {
      // The agent is gone or refused: it reconnects on its backoff, as after a crash.
    }
  };
  let timer: { cancel(): void } | undefined;
  await Promise.race([
    Promise.all(tunnels.map(tell)),
    new Promise<void>((resolve) => (timer = options.clock.setTimeout(resolve, options.timeoutMs))),
  ]);
  timer?.cancel();
  options.logger.info(
    { event: 'relay.return-notice', tunnels: tunnels.length, told, afterMs: options.afterMs, windowMs },
    `told ${told} of ${tunnels.length} agents to come back in ${Math.round(options.afterMs / 1000)} to ${Math.round((options.afterMs + windowMs) / 1000)} s`,
  );
  return { windowMs, told };
}
