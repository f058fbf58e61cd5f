/**
 * Which relay may write to a console now, while an agent holds tunnels to several relays of a
 * group and each relay has its own session hub for the device (until the group moves each
 * device's hub to one relay). Every relay gets the console's output; input (keystrokes and BREAK)
 * is taken from one relay at a time: the one that wrote last keeps it for `holdMs` after its
 * last write, or until its stream closes; then the next relay to write takes it. A relay alone
 * always holds it, so a single relay behaves exactly as before.
 */
export class InputHolder {
  private holder: { source: string; at: number } | undefined;
  /** Sources already told that another relay holds the input, since that holder took it. */
  private readonly told = new Set<string>();

  constructor(
    private readonly holdMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Whether `source` may write now (and, if so, it holds the input from now). When it may not,
   * `refusal` says so once per holder: a line for the people on that relay.
   */
  take(source: string): { ok: true } | { ok: false; refusal: string | undefined; holder: string } {
    const now = this.now();
    const held = this.holder;
    if (held && held.source !== source && now - held.at < this.holdMs) {
      const first = !this.told.has(source);
      this.told.add(source);
      const seconds = Math.ceil((this.holdMs - (now - held.at)) / 1000);
      return {
        ok: false,
        holder: held.source,
        refusal: first
          ? `input not sent: a person on another relay of the group (${held.source}) is typing on this console; ` +
            `it takes input from one relay at a time (free ${seconds} s after their last keystroke).`
          : undefined,
      };
    }
    // A new hold (another relay, or the same one after a pause): whoever is refused is told again.
    if (held?.source !== source || now - held.at >= this.holdMs) this.told.clear();
    this.holder = { source, at: now };
    return { ok: true };
  }

  /** The source's stream closed: it holds nothing any more. */
  release(source: string): void {
    if (this.holder?.source === source) {
      this.holder = undefined;
      this.told.clear();
    }
    this.told.delete(source);
  }
}
