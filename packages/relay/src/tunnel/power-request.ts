import {
  LifelineError,
  POWER_ORIGIN,
  decodePowerAnswer,
  encodePowerRequest,
  printable,
  readLine,
  type Clock,
  type PowerAction,
} from '@lifeline/shared/core';
import type { AgentTunnel } from './agent-tunnel.js';

/**
 * Asks a device's agent to control the device's power (through its BMC), on a stream of its own
 * through the tunnel (docs/protocol.md), and returns the BMC's answer. The agent's text (answer
 * or refusal) comes back `printable()`: it is shown on terminals. Throws LifelineError
 * POWER_UNSUPPORTED (the console has no power control), POWER_FAILED, or TUNNEL_CLOSED.
 */
export async function requestPower(tunnel: AgentTunnel, action: PowerAction, timeoutMs: number, clock: Clock): Promise<string> {
  const stream = await tunnel.openStream({ address: POWER_ORIGIN, port: 0 });
  let timer: { cancel(): void } | undefined;
  try {
    stream.write(encodePowerRequest(action));
    const line = await Promise.race([
      readLine(stream, 1_024),
      new Promise<'timeout'>((resolve) => (timer = clock.setTimeout(() => resolve('timeout'), timeoutMs))),
    ]);
    if (line === 'timeout')
      throw new LifelineError('POWER_FAILED', `no answer from the agent of ${tunnel.deviceId} within ${timeoutMs} ms`);
    const answer = line === undefined ? undefined : decodePowerAnswer(line);
    if (!answer) throw new LifelineError('POWER_FAILED', `the agent of ${tunnel.deviceId} gave no usable answer (an older agent?)`);
    if (!answer.ok) {
      const unsupported = answer.error.startsWith('unsupported:');
      throw new LifelineError(
        unsupported ? 'POWER_UNSUPPORTED' : 'POWER_FAILED',
        printable(answer.error.replace(/^unsupported: /, ''), 500),
      );
    }
    return printable(answer.text, 500);
  } finally {
    timer?.cancel();
    stream.destroy();
  }
}
