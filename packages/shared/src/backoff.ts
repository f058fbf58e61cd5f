/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * the n-th delay is uniform in [0, min(cap, base * 2^n)], so a relay restart does not bring
 * every agent back in the same second.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Uniform random in [0, 1); injected so tests are deterministic. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    if (options.baseMs <= 0 || options.capMs < options.baseMs) {
      throw new RangeError(`backoff needs 0 < baseMs <= capMs, got ${options.baseMs}/${options.capMs}`);
    }
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.options.capMs, this.options.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.floor(this.random() * ceiling);
  }

  /** Call after a success that lasted, so the next failure starts small again. */
  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
