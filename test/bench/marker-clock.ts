/**
 * Timing of small distinct markers in a byte stream, for latency measurements: `feed` each chunk
 * the moment it arrives and the clock notes, for every marker the chunk completes, the
 * monotonic time in milliseconds. A marker split across chunks counts when its last byte arrives.
 */
export class MarkerClock {
  private text = '';
  private scanned = 0;
  private readonly seen = new Map<string, number>();

  constructor(private readonly pattern: RegExp = MARKER) {}

  feed(chunk: Buffer): void {
    const now = nowMs();
    this.text += chunk.toString('latin1');
    const re = new RegExp(this.pattern.source, 'g');
    re.lastIndex = this.scanned;
    for (let m = re.exec(this.text); m; m = re.exec(this.text)) {
      if (!this.seen.has(m[0])) this.seen.set(m[0], now);
      this.scanned = re.lastIndex;
    }
    // Keep memory flat over long runs: what was scanned is no longer needed.
    if (this.scanned > 4096) {
      this.text = this.text.slice(this.scanned);
      this.scanned = 0;
    }
  }

  /** When the marker's last byte arrived (ms, monotonic), or undefined if not yet. */
  at(marker: string): number | undefined {
    return this.seen.get(marker);
  }

  get count(): number {
    return this.seen.size;
  }
}

/** `<mk000042>`: short, and nothing a console or lifeline would print by itself. */
const MARKER = /<mk\d{6}>/;

export function marker(i: number): string {
  return `<mk${String(i).padStart(6, '0')}>`;
}

/** Monotonic milliseconds (process.hrtime), comparable across all clients of one process. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentiles of `values` (ms); all NaN when empty. */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  return { n: sorted.length, p50: rank(50), p95: rank(95), max: sorted[sorted.length - 1] ?? Number.NaN };
}
