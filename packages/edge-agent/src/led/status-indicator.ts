import type { IndicatorState } from './status-states.js';

export type { IndicatorState } from './status-states.js';

/**
 * The one thing the agent tells about its state. The states, their LED patterns and meanings are
 * the table in status-states.ts (`searching`, `healthy`, `fault`, `waiting-approval` and the
 * `refused-*` states of an enrolment the relay refused). Never throws: a broken LED or hook is
 * logged and the agent goes on.
 */
export interface StatusIndicator {
  /**
   * Shows `state`. Calling it again with the state already shown changes nothing (the blink does
   * not restart and the hook does not run), so callers may report on every health check; for a
   * state a person must act on (`fault`, `refused-*`), a new reason counts as a change.
   * `reason` is a short phrase for people (the hook's LIFELINE_REASON, the log line).
   */
  setState(state: IndicatorState, reason?: string): void;
  /** Console bytes went by. Cheap enough to call on every chunk; flickers a healthy LED, rate-limited. */
  traffic(): void;
  /** LED off, its pin or trigger released, no new hook run; resolves once a running hook has ended. Safe to call twice. */
  close(): Promise<void>;
}
