import type { Clock } from '@lifeline/shared/core';

/** How one throttle counts (the relay has one for people and one for agents, from `auth`). */
export interface LoginThrottleConfig {
  /** Pause before answering a failed login. */
  failureDelayMs: number;
  /** Failures a key may have per window before it is refused. */
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

/** One login attempt being checked. */
export interface LoginAttempt {
  /** It failed: it counts as a failure from now. */
  failed(): FailureVerdict;
  /** It succeeded, or was abandoned: it never counts. */
  withdraw(): void;
}

interface KeyState {
  /** Times of failures still inside the window (at most maxFailuresPerWindow). */
  failures: number[];
  /** Attempts begun and not yet settled. */
  pending: number;
  /** Attempts waiting for pending ones to settle. */
  waiters: Array<() => void>;
}

/**
 * Counts failed logins per key (a source address, or an address and agent key) in a sliding
 * window. Once a key has `maxFailuresPerWindow` failures inside `windowMs` it is blocked until the
 * oldest is `windowMs` old. An attempt reserves its place with `begin()` before any costly check
 * runs: while failures plus attempts being checked reach the limit, further attempts wait for one
 * to settle, so a burst of parallel wrong passwords gets no more checks than the limit, while a
 * burst of right ones (people logging in at once from an office NAT) all go through. Successes do
 * not reset the count: one valid account must not buy an attacker fresh guesses. Attempts while
 * blocked are refused without counting, so a block does not extend itself.
 */
export class LoginThrottle {
  private readonly keys = new Map<string, KeyState>();
  private lastSweep: number;

  constructor(
    private readonly config: LoginThrottleConfig,
    private readonly clock: Clock,
  ) {
    this.lastSweep = clock.now();
  }

  /** True while `key` has used up its failures for the current window. */
  isBlocked(key: string): boolean {
    return this.recentFailures(key) >= this.config.maxFailuresPerWindow;
  }

  /**
   * Reserves a check for one attempt from `key`: resolves with it at once, or once an attempt
   * being checked settles; resolves undefined when `key` is (or becomes) blocked. Rejects with
   * the signal's reason if `signal` aborts (the client hung up) while waiting.
   */
  begin(key: string, signal?: AbortSignal): Promise<LoginAttempt | undefined> {
    this.sweep();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const tryNow = (): boolean => {
        const failures = this.recentFailures(key);
        if (failures >= this.config.maxFailuresPerWindow) {
          resolve(undefined);
          return true;
        }
        const state = this.state(key);
        if (failures + state.pending >= this.config.maxFailuresPerWindow) return false;
        state.pending++;
        resolve(this.attempt(key));
        return true;
      };
      if (tryNow()) return;
      const wake = () => {
        if (tryNow()) signal?.removeEventListener('abort', onAbort);
        else this.state(key).waiters.push(wake);
      };
      const onAbort = () => {
        const waiters = this.keys.get(key)?.waiters;
        const i = waiters?.indexOf(wake) ?? -1;
        if (i >= 0) waiters!.splice(i, 1);
        this.forgetIfIdle(key);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.state(key).waiters.push(wake);
    });
  }

  /** Records one failed login from `key` that needed no reserved check; blocked keys stay as they are. */
  recordFailure(key: string): FailureVerdict {
    this.sweep();
    if (!this.isBlocked(key)) this.state(key).failures.push(this.clock.now());
    return { delayMs: this.config.failureDelayMs, blocked: this.isBlocked(key) };
  }

  /** Keys with failures inside the window or attempts in progress (for tests and status). */
  get trackedKeys(): number {
    return this.keys.size;
  }

  private attempt(key: string): LoginAttempt {
    let settled = false;
    const settle = (failed: boolean) => {
      if (settled) return false;
      settled = true;
      const state = this.state(key);
      state.pending--;
      if (failed) state.failures.push(this.clock.now());
      for (const wake of state.waiters.splice(0)) wake();
      this.forgetIfIdle(key);
      return true;
    };
    return {
      failed: () => {
        settle(true);
        return { delayMs: this.config.failureDelayMs, blocked: this.isBlocked(key) };
      },
      withdraw: () => void settle(false),
    };
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) this.keys.set(key, (state = { failures: [], pending: 0, waiters: [] }));
    return state;
  }

  private recentFailures(key: string): number {
    const state = this.keys.get(key);
    if (!state) return 0;
    const since = this.clock.now() - this.config.windowMs;
    while (state.failures.length > 0 && state.failures[0]! <= since) state.failures.shift();
    this.forgetIfIdle(key);
    return state.failures.length;
  }

  private forgetIfIdle(key: string): void {
    const state = this.keys.get(key);
    if (state && state.failures.length === 0 && state.pending === 0 && state.waiters.length === 0) this.keys.delete(key);
  }

  /** Forgets keys whose failures all left the window, at most once per window. */
  private sweep(): void {
    const now = this.clock.now();
    if (now - this.lastSweep < this.config.windowMs) return;
    this.lastSweep = now;
    for (const key of [...this.keys.keys()]) this.recentFailures(key);
  }
}
