import type { Duplex } from 'node:stream';
import { decodePowerRequest, encodePowerAnswer, readLine, type Logger, type PowerAction } from '@lifeline/shared/core';

/** What the agent can do about a device's power; undefined for consoles without a BMC. */
export type PowerHandler = ((action: PowerAction) => Promise<string>) | undefined;

/**
 * Answers one power request the relay sent on a stream of its own (originator
 * `lifeline-power`): runs it through the device's BMC and sends back one answer line.
 */
export function answerPowerRequest(stream: Duplex, deviceId: string, handler: PowerHandler, logger: Logger): void {
  stream.on('error', () => undefined);
  void readLine(stream, 256).then(async (line) => {
    const action = line === undefined ? undefined : decodePowerRequest(line);
    if (!action) {
      stream.end(encodePowerAnswer({ ok: false, error: 'not a power request' }));
      return;
    }
    if (!handler) {
      stream.end(encodePowerAnswer({ ok: false, error: `unsupported: ${deviceId} has no power control (only IPMI consoles do)` }));
      return;
    }
    logger.info({ event: 'power.request', deviceId, action }, `power ${action} requested by the relay`);
    try {
      const text = await handler(action);
      logger.info({ event: 'power.done', deviceId, action, result: text }, `power ${action}: ${text}`);
      stream.end(encodePowerAnswer({ ok: true, text }));
    } catch (err) {
      logger.warn({ event: 'power.failed', deviceId, action, err: (err as Error).message }, `power ${action} failed`);
      stream.end(encodePowerAnswer({ ok: false, error: (err as Error).message }));
    }
  });
}
