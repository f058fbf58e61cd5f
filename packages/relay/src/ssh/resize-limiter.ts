import type { Clock, TimerHandle } from '@lifeline/shared/core';
import type { TerminalSize } from '../session/console-broker.js';

/**
 * Window-size changes from one session, applied at most `perSecond` times a second. The first
 * change after a quiet spell is applied at once; changes that come sooner are coalesced (the
 * latest size wins) and the latest is applied when its turn comes, so the final size always
 * lands. A person dragging a window edge, or a client flooding window-change requests, costs the
 * console and its recording one resize per turn, and the limiter holds one size, never a queue.
 */
export class ResizeLimiter {
  private readonly intervalMs: number;
  private lastAppliedAt = Number.NEGATIVE_INFINITY;
  private pending: TerminalSize | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly apply: (size: TerminalSize) => void,
    perSecond: number,
    private readonly clock: Clock,
  ) {
    this.intervalMs = 1_000 / perSecond;
  }

  /** A new size from the client. */
  push(size: TerminalSize): void {
    if (this.stopped) return;
    this.pending = { cols: size.cols, rows: size.rows };
    if (this.timer) return;
    const wait = this.lastAppliedAt + this.intervalMs - this.clock.now();
    if (wait <= 0) this.flush();
    else this.timer = this.clock.setTimeout(() => this.flush(), wait);
  }

  /** Drops a size not yet applied and stops; later pushes do nothing. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.pending = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    const size = this.pending;
    if (!size || this.stopped) return;
    this.pending = undefined;
    this.lastAppliedAt = this.clock.now();
    this.apply(size);
  }
}
