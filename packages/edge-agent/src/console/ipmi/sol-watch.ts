import type { Clock, IpmiSolConsoleConfig, Logger, TimerHandle } from '@lifeline/shared/core';
import type { IpmiSecret } from './ipmi-password.js';
import type { IpmitoolOptions } from './ipmitool-command.js';
import { payloadOwner } from './sol-payload-owner.js';

/**
 * One check asks the BMC once more after no answer, and gives up after 10 s. Not configurable: it
 * stays under the watch interval (SOL_TIMING.watchMs, 15 s), so a check ends before the next is due.
 */
const CHECK = { retries: 1, timeoutMs: 10_000 } as const;

export interface SolWatchOptions {
  config: IpmiSolConsoleConfig;
  secret: IpmiSecret;
  ipmitool: Pick<IpmitoolOptions, 'env' | 'ipmitool'>;
  /** Time between checks. */
  intervalMs: number;
  /** Checks without an answer in a row before SOL counts as lost. */
  maxFailures: number;
  clock: Clock;
  logger: Logger;
  /**
   * SOL is gone. `takenOver`: another session holds it now, so this one must not deactivate
   * SOL on its way out (that would end the other's).
   */
  onLost(reason: string, takenOver: boolean): void;
}

/**
 * Watches one SOL activation from the side: now and then a short second ipmitool session asks
 * the BMC who holds SOL instance 1 (see sol-payload-owner.ts for why ipmitool alone does not
 * tell). The first answer is the holder to compare with: the activation just made is ours.
 */
export class SolWatch {
  private timer: TimerHandle | undefined;
  private checking: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private owner: number | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: SolWatchOptions) {}

  /** First check at once, then every `intervalMs`. */
  start(): this {
    this.schedule(0);
    return this;
  }

  /** No more checks; one in flight is cut short. Resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.abort.abort();
    await this.checking;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.checking = this.check()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'SOL check failed'))
        .finally(() => (this.checking = undefined));
    }, delayMs);
  }

  private async check(): Promise<void> {
    const { config, secret, ipmitool, clock } = this.options;
    const owner = await payloadOwner(config, secret, { ...ipmitool, ...CHECK, clock, signal: this.abort.signal });
    if (this.stopped) return;
    switch (owner.state) {
      case 'unsupported':
        this.options.logger.info('the BMC cannot say who holds SOL; a dropped SOL session is noticed only when ipmitool gives up');
        return;
      case 'free':
        return this.lost('the BMC ended the SOL session', false);
      case 'owned':
        this.failures = 0;
        if (this.owner === undefined) this.owner = owner.sessionId;
        else if (owner.sessionId !== this.owner) return this.lost('another IPMI session took over the SOL console', true);
        break;
      case 'failed':
        if (++this.failures >= this.options.maxFailures) return this.lost(`the BMC stopped answering (${owner.failure.message})`, false);
        break;
    }
    this.schedule(this.options.intervalMs);
  }

  private lost(reason: string, takenOver: boolean): void {
    this.stopped = true;
    this.options.onLost(reason, takenOver);
  }
}
