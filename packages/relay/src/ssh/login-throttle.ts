import type { Clock } from '@lifeline/shared';

/** How one throttle counts (the relay has one for people and one for agents, from `auth`). */
export interface LoginThrottleConfig {
  /** Pause before answering a failed login. */
  failureDelayMs: number;
  /** Attempts counted against a key per window before it is refused. */
  maxFailuresPerWindow: number;
  windowMs: number;
}

/** What to do after a failed login. */
export interface FailureVerdict {
  /** Wait this long before telling the client. */
  delayMs: number;
  /** The key has now used up its failures: disconnect it. */
  blocked: boolean;
}

/** One login attempt, counted from the moment it began. */
export interface LoginAttempt {
  /** It failed: it stays counted. */
  failed(): FailureVerdict;
  /** It succeeded, or was abandoned before anything was checked: it no longer counts. */
  withdraw(): void;
}

interface Mark {
  at: number;
}

/**
 * Counts login attempts per key (a source address, or an address and agent key) in a sliding
 * window. An attempt counts from `begin()`, before any costly check runs, so a burst of parallel
 * attempts cannot get more than `maxFailuresPerWindow` checks; a success withdraws its own count.
 * Once a key has `maxFailuresPerWindow` attempts inside `windowMs` it is blocked until the oldest
 * is `windowMs` old. Successes do not reset the count: one valid account must not buy an attacker
 * fresh guesses. Attempts while blocked are refused without counting, so a block does not extend
 * itself.
 */
export class LoginThrottle {
  /** Per key, its attempts still inside the window (at most maxFailuresPerWindow of them). */
  private readonly attempts = new Map<string, Mark[]>();
  private lastSweep: number;

  constructor(
    private readonly config: LoginThrottleConfig,
    private readonly clock: Clock,
  ) {
    this.lastSweep = clock.now();
  }

  /** True while `key` has used up its attempts for the current window. */
  isBlocked(key: string): boolean {
    return this.recent(key).length >= this.config.maxFailuresPerWindow;
  }

  /** Counts one attempt from `key` now, before it is checked; undefined when `key` is blocked. */
  begin(key: string): LoginAttempt | undefined {
    this.sweep();
    const marks = this.recent(key);
    if (marks.length >= this.config.maxFailuresPerWindow) return undefined;
    const mark: Mark = { at: this.clock.now() };
    marks.push(mark);
    this.attempts.set(key, marks);
    let settled = false;
    return {
      failed: () => {
        settled = true;
        return { delayMs: this.config.failureDelayMs, blocked: this.isBlocked(key) };
      },
      withdraw: () => {
        if (settled) return;
        settled = true;
        const current = this.attempts.get(key);
        const i = current?.indexOf(mark) ?? -1;
        if (i >= 0) current!.splice(i, 1);
        this.recent(key);
      },
    };
  }

  /** Records one failed login from `key` (begin and fail in one); blocked keys stay as they are. */
  recordFailure(key: string): FailureVerdict {
    return this.begin(key)?.failed() ?? { delayMs: this.config.failureDelayMs, blocked: true };
  }

  /** Keys with attempts still inside the window (for tests and status). */
  get trackedKeys(): number {
    return this.attempts.size;
  }

  private recent(key: string): Mark[] {
    const since = this.clock.now() - this.config.windowMs;
    const marks = (this.attempts.get(key) ?? []).filter((m) => m.at > since);
    if (marks.length === 0) this.attempts.delete(key);
    else this.attempts.set(key, marks);
    return marks;
  }

  /** Forgets keys whose attempts all left the window, at most once per window. */
  private sweep(): void {
    const now = this.clock.now();
    if (now - this.lastSweep < this.config.windowMs) return;
    this.lastSweep = now;
    for (const key of [...this.attempts.keys()]) this.recent(key);
  }
}
