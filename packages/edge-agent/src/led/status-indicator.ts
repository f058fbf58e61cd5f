/**
 * What the agent is doing, as a person at the site must be able to tell it from one LED:
 * - `searching`: no usable tunnel to the relay yet (or the last health check failed); retrying.
 * - `healthy`: the tunnel is up and the last health check passed.
 * - `fault`: something a person must fix (serial port missing, relay host key mismatch, agent key
 *   not enrolled); the agent keeps retrying, but will not get better by itself.
 */
export type IndicatorState = 'searching' | 'healthy' | 'fault';

/**
 * The one thing the agent tells about its state. Never throws: a broken LED or hook is logged
 * and the agent goes on.
 */
export interface StatusIndicator {
  /**
   * Shows `state`. Calling it again with the state already shown changes nothing (the blink does
   * not restart and the hook does not run), so callers may report on every health check.
   * `reason` is a short phrase for people (the hook's LIFELINE_REASON, the log line).
   */
  setState(state: IndicatorState, reason?: string): void;
  /** Console bytes went by. Cheap enough to call on every chunk; flickers a healthy LED, rate-limited. */
  traffic(): void;
  /** LED off, its pin or trigger released, no new hook run; resolves once a running hook has ended. Safe to call twice. */
  close(): Promise<void>;
}
