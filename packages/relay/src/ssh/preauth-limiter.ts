import type { Clock, Logger, TimerHandle } from '@lifeline/shared';

/** Limits on connections that have not logged in yet (`limits` in relay.yaml). */
export interface PreauthLimits {
  /** From accept until authentication succeeds; then the connection is closed (sshd's LoginGraceTime). */
  loginGraceMs: number;
  /** Unauthenticated connections one source address may hold. */
  maxUnauthenticatedPerAddress: number;
  /** Unauthenticated connections the relay holds in all (sshd's MaxStartups). */
  maxUnauthenticated: number;
}

/** One admitted connection's place among the unauthenticated ones. */
export interface PreauthTicket {
  /** Authentication succeeded: it no longer counts and its grace timer stops. Idempotent. */
  authenticated(): void;
  /** The connection closed. Idempotent. */
  release(): void;
}

export interface PreauthLimiterOptions {
  clock: Clock;
  logger: Logger;
  /** At most one `ssh.preauth-limit` line per this interval; the next one counts what was left out (default 10 s). */
  logIntervalMs?: number;
}

type Reason = 'per-address' | 'total';

/**
 * Admission for new TCP connections, decided at accept, before ssh2 spends anything on them: at
 * most `maxUnauthenticatedPerAddress` from one address and `maxUnauthenticated` in all may be
 * waiting to log in, and each gets `loginGraceMs` from accept to succeed. Refusals are logged as
 * `ssh.preauth-limit`, rate-limited so a flood cannot flood the log.
 */
export class PreauthLimiter {
  private total = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly logIntervalMs: number;
  private lastLogAt = -Infinity;
  private unlogged: { count: number; reason: Reason; address: string } | undefined;
  private flushTimer: TimerHandle | undefined;

  constructor(
    private readonly limits: PreauthLimits,
    private readonly options: PreauthLimiterOptions,
  ) {
    this.logIntervalMs = options.logIntervalMs ?? 10_000;
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
    this.total++;
    this.byAddress.set(address, mine + 1);
    let counted = true;
    const leave = () => {
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
    return { authenticated: leave, release: leave };
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
