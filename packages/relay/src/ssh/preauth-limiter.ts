import type { Clock, Logger, TimerHandle } from '@lifeline/shared/core';

/** Limits on connections that have not logged in yet (`limits` in relay.yaml). */
export interface PreauthLimits {
  /** From accept until authentication succeeds; then the connection is closed (sshd's LoginGraceTime). */
  loginGraceMs: number;
  /** Unauthenticated connections one source address may hold. */
  maxUnauthenticatedPerAddress: number;
  /** Unauthenticated connections the relay holds in all (sshd's MaxStartups). */
  maxUnauthenticated: number;
  /**
   * Connections whose key exchange has not finished. Past this, new connections are closed at
   * accept, before the relay sends its banner or does any key-exchange work (load shedding).
   */
  handshakesInFlight: number;
}

/** One admitted connection's place among the unauthenticated ones. */
export interface PreauthTicket {
  /** Key exchange finished: it no longer counts as a handshake in flight. Idempotent. */
  keysExchanged(): void;
  /** Authentication succeeded: it no longer counts and its grace timer stops. Idempotent. */
  authenticated(): void;
  /** The connection closed. Idempotent. */
  release(): void;
}

export interface PreauthLimiterOptions {
  clock: Clock;
  logger: Logger;
  /** At most one `ssh.preauth-limit` line per this interval; the next one counts what was left out (tests only; PREAUTH_LOG_INTERVAL_MS). */
  logIntervalMs?: number;
}

/**
 * Log lines about refused connections are at most this far apart, so a flood costs a few lines a
 * minute, not one per connection. Not an operator's choice: the lines carry the counts.
 */
const PREAUTH_LOG_INTERVAL_MS = 10_000;

type Reason = 'per-address' | 'total';

/** A run of connections shed because too many handshakes were in flight. */
interface SheddingStreak {
  since: number;
  lastShedAt: number;
  refused: number;
}

/**
 * Admission for new TCP connections, decided at accept, before ssh2 spends anything on them: at
 * most `maxUnauthenticatedPerAddress` from one address and `maxUnauthenticated` in all may be
 * waiting to log in, and each gets `loginGraceMs` from accept to succeed. Refusals are logged as
 * `ssh.preauth-limit`, rate-limited so a flood cannot flood the log.
 *
 * Load shedding: at most `handshakesInFlight` connections may be in key exchange (from accept to
 * ssh2's `handshake`). That work is CPU-bound and the client's connect timeout runs meanwhile; a
 * relay that takes on more than it can finish in that time (after a restart, every agent at once)
 * makes them all time out mid-handshake and retry, which wastes the work already done. A shed
 * connection is closed at accept, costing one accept and close; the agent backs off and retries.
 * A streak of shedding is logged twice: `ssh.shedding` (warn) at its first refusal, and
 * `ssh.shedding-ended` (info, with the count and duration) at the first connection admitted after
 * `logIntervalMs` without a refusal. (During a storm the count hovers at the limit, admitting one
 * connection whenever one finishes: without that quiet time, each would end a streak.)
 */
export class PreauthLimiter {
  private total = 0;
  private handshakes = 0;
  private streak: SheddingStreak | undefined;
  private readonly byAddress = new Map<string, number>();
  private readonly logIntervalMs: number;
  private lastLogAt = -Infinity;
  private unlogged: { count: number; reason: Reason; address: string } | undefined;
  private flushTimer: TimerHandle | undefined;

  constructor(
    private readonly limits: PreauthLimits,
    private readonly options: PreauthLimiterOptions,
  ) {
    this.logIntervalMs = options.logIntervalMs ?? PREAUTH_LOG_INTERVAL_MS;
  }

  /**
   * Admits a connection from `address`, or refuses it (undefined) when a cap is reached: the
   * caller closes the socket at once. `onExpired` runs if the ticket is neither authenticated
   * nor released within `loginGraceMs`.
   */
  admit(address: string, onExpired: () => void): PreauthTicket | undefined {
    const mine = this.byAddress.get(address) ?? 0;
    if (mine >= this.limits.maxUnauthenticatedPerAddress) return this.refuse('per-address', address);
    if (this.total >= this.limits.maxUnauthenticated) return this.refuse('total', address);
    if (this.handshakes >= this.limits.handshakesInFlight) return this.shed();
    if (this.streak && this.options.clock.now() - this.streak.lastShedAt >= this.logIntervalMs) this.endStreak();
    this.total++;
    this.handshakes++;
    let exchanging = true;
    const exchanged = () => {
      if (!exchanging) return;
      exchanging = false;
      this.handshakes--;
    };
    this.byAddress.set(address, mine + 1);
    let counted = true;
    const leave = () => {
      exchanged();
      if (!counted) return;
      counted = false;
      timer.cancel();
      this.total--;
      const n = (this.byAddress.get(address) ?? 1) - 1;
      if (n === 0) this.byAddress.delete(address);
      else this.byAddress.set(address, n);
    };
    const timer = this.options.clock.setTimeout(() => {
      if (!counted) return;
      this.options.logger.info(
        { event: 'ssh.login-grace-expired', peer: address, loginGraceMs: this.limits.loginGraceMs },
        'closed a connection that did not log in in time',
      );
      leave();
      onExpired();
    }, this.limits.loginGraceMs);
    return { keysExchanged: exchanged, authenticated: leave, release: leave };
  }

  /** Connections admitted whose key exchange has not finished. */
  get handshaking(): number {
    return this.handshakes;
  }

  /** Connections admitted and not yet authenticated or closed. */
  get unauthenticated(): number {
    return this.total;
  }

  /** Stops the pending log flush (at shutdown). */
  dispose(): void {
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
  }

  private shed(): undefined {
    const now = this.options.clock.now();
    if (this.streak && now - this.streak.lastShedAt >= this.logIntervalMs) this.endStreak();
    if (this.streak) {
      this.streak.refused++;
      this.streak.lastShedAt = now;
      return undefined;
    }
    this.streak = { since: now, lastShedAt: now, refused: 1 };
    this.options.logger.warn(
      { event: 'ssh.shedding', handshakesInFlight: this.handshakes, limit: this.limits.handshakesInFlight },
      `too many SSH handshakes in flight (${this.handshakes}): closing new connections at accept until some finish`,
    );
    return undefined;
  }

  private endStreak(): void {
    const streak = this.streak;
    if (!streak) return;
    this.streak = undefined;
    const ms = streak.lastShedAt - streak.since;
    this.options.logger.info(
      { event: 'ssh.shedding-ended', refused: streak.refused, ms },
      `accepting connections again; ${streak.refused} were closed at accept over ${ms} ms`,
    );
  }

  private refuse(reason: Reason, address: string): undefined {
    const count = (this.unlogged?.count ?? 0) + 1;
    this.unlogged = { count, reason, address };
    const wait = this.lastLogAt + this.logIntervalMs - this.options.clock.now();
    if (wait <= 0) this.flush();
    else this.flushTimer ??= this.options.clock.setTimeout(() => this.flush(), wait);
    return undefined;
  }

  private flush(): void {
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    const pending = this.unlogged;
    if (!pending) return;
    this.unlogged = undefined;
    this.lastLogAt = this.options.clock.now();
    const limit = pending.reason === 'total' ? this.limits.maxUnauthenticated : this.limits.maxUnauthenticatedPerAddress;
    this.options.logger.warn(
      {
        event: 'ssh.preauth-limit',
        reason: pending.reason,
        limit,
        peer: pending.address,
        refused: pending.count,
        unauthenticated: this.total,
      },
      `refused ${pending.count} connection(s): too many not logged in yet (${pending.reason})`,
    );
  }
}
