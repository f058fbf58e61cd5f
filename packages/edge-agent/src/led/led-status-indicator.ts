import type { Logger } from '@lifeline/shared/core';
import type { LedPatternPlayer } from './led-pattern-player.js';
import type { StatusHook } from './status-hook.js';
import type { StatusIndicator } from './status-indicator.js';
import { needsPerson, type IndicatorState } from './status-states.js';

export interface LedStatusIndicatorOptions {
  player: LedPatternPlayer;
  /** Told of every change; none when no hook is configured. */
  hook?: Pick<StatusHook, 'notify' | 'close'>;
  logger: Logger;
}

/**
 * The StatusIndicator the agent holds: logs each change as `{from, to}`, plays it on the LED and
 * tells the hook. It starts in `searching` (the agent runs but has no tunnel yet). A change of
 * reason alone counts as a change only for a state a person must act on (a fault, a refusal): a
 * different fault needs a different fix.
 */
export class LedStatusIndicator implements StatusIndicator {
  private state: IndicatorState | undefined;
  private reason: string | undefined;
  private closing: Promise<void> | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: LedStatusIndicatorOptions) {
    this.logger = options.logger.child({ component: 'status' });
    this.setState('searching', 'agent started');
  }

  /** The state shown now. */
  get current(): IndicatorState {
    return this.state ?? 'searching';
  }

  setState(state: IndicatorState, reason?: string): void {
    if (this.closing) return;
    if (state === this.state && (!needsPerson(state) || reason === this.reason)) return;
    this.logger.info(
      { event: 'status.change', from: this.state ?? 'off', to: state, reason },
      `status ${state}${reason ? `: ${reason}` : ''}`,
    );
    this.state = state;
    this.reason = reason;
    this.options.player.play(state);
    this.options.hook?.notify(state, reason);
  }

  traffic(): void {
    this.options.player.traffic();
  }

  close(): Promise<void> {
    this.closing ??= Promise.all([this.options.player.close(), this.options.hook?.close()]).then(() => undefined);
    return this.closing;
  }
}
