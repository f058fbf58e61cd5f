import type { Clock, RelayConfig } from '@lifeline/shared';

export type LoginThrottleConfig = RelayConfig['auth'];

/** What to do after a failed login. */
export interface FailureVerdict {
  /** Wait this long before telling the client. */
  delayMs: number;
  /** The address has now used up its failures: disconnect it. */
  blocked: boolean;
}

/**
 * Counts failed logins per source address in a sliding window. After `maxFailuresPerWindow`
 * failures within `windowMs`, the address is blocked until the oldest of those failures is
 * `windowMs` old. Successful logins do not reset the count: one valid account must not buy an
 * attacker fresh guesses. Attempts while blocked are refused without counting, so a block does
 * not extend itself.
 */
export class LoginThrottle {
  /** Per address, times of its most recent failures (at most maxFailuresPerWindow of them). */
  private readonly failures = new Map<string, number[]>();
  private lastSweep: number;

  constructor(
    private readonly config: LoginThrottleConfig,
    private readonly clock: Clock,
  ) {
    this.lastSweep = clock.now();
  }

  /** True while `address` has used up its failures for the current window. */
  isBlocked(address: string): boolean {
    return this.recent(address).length >= this.config.maxFailuresPerWindow;
  }

  /** Records one failed login from `address`. */
  recordFailure(address: string): FailureVerdict {
    this.sweep();
    const times = this.recent(address);
    times.push(this.clock.now());
    if (times.length > this.config.maxFailuresPerWindow) times.shift();
    this.failures.set(address, times);
    return { delayMs: this.config.failureDelayMs, blocked: times.length >= this.config.maxFailuresPerWindow };
  }

  /** Addresses with failures still inside the window (for tests and status). */
  get trackedAddresses(): number {
    return this.failures.size;
  }

  private recent(address: string): number[] {
    const since = this.clock.now() - this.config.windowMs;
    const times = (this.failures.get(address) ?? []).filter((t) => t > since);
    if (times.length === 0) this.failures.delete(address);
    return times;
  }

  /** Forgets addresses whose failures all left the window, at most once per window. */
  private sweep(): void {
    const now = this.clock.now();
    if (now - this.lastSweep < this.config.windowMs) return;
    this.lastSweep = now;
    for (const address of [...this.failures.keys()]) this.recent(address);
  }
}
