import type { WriterRefusal, WriterRefusalKind } from '@lifeline/shared/core';

/** What the fence decided about something a relay sent. */
export type FenceVerdict = { ok: true } | { ok: false; refusal: WriterRefusal | undefined };

/** The largest token a relay sent, and which relay (its address) sent it. */
export interface Fence {
  token: bigint;
  source: string;
}

/**
 * Which relay may write to one console (keystrokes, BREAK), fenced by the relay group's writer
 * lease (docs/architecture.md "Writer lease"). A member that gains the device's writer lease
 * sends its fencing token on its console stream (LIFELINE-WRITER); the fence keeps the largest
 * token it has seen and takes input only from the relay that sent it, on the stream it sent it on.
 * A member that lost the lease without knowing it (frozen, cut off) still holds an older token:
 * what it sends is refused, and it is told (`refusal`, once per largest token, so its people see
 * one line, not one per keystroke). A claim with an older token is refused and told at once.
 *
 * No token at all (a relay alone, or relays that predate the lease): every relay writes, as
 * before. While the relay with the largest token has its stream up, a relay that sends none is
 * refused: it cannot prove it holds the lease. The largest token outlives its stream (the
 * writer's relay died): a relay that claimed with a smaller one stays refused, and one that never
 * claimed (a relay alone, e.g. a group shrunk to one relay without `group` while this agent ran)
 * writes as before.
 *
 * The fence also outlives the agent: it starts from the one remembered (`restored`, from
 * writer-tokens.ts) and reports each larger token (`onRaise`) to be remembered, so a restart does
 * not let a relay that lost its lease write again before the holder's stream is back.
 */
export class WriterFence {
  private fence: Fence | undefined;
  /** The token each relay's current stream sent. */
  private readonly tokens = new Map<string, bigint>();
  /** The relays told about the current fence since it was set. */
  private readonly told = new Set<string>();

  constructor(private readonly options: { restored?: Fence | undefined; onRaise?: (fence: Fence) => void } = {}) {
    this.fence = options.restored;
  }

  /** `source`'s stream claims the lease with `token`. */
  claim(source: string, token: bigint): FenceVerdict {
    const fence = this.fence;
    if (fence === undefined || token > fence.token) {
      this.fence = { token, source };
      this.tokens.set(source, token);
      this.told.clear();
      this.options.onRaise?.(this.fence);
      return { ok: true };
    }
    this.tokens.set(source, token);
    if (token === fence.token && source === fence.source) return { ok: true };
    this.told.add(source);
    return { ok: false, refusal: this.refusal('token') };
  }

  /** Whether `source` may write now; if not, the refusal to send it (the first time per fence only). */
  mayWrite(source: string, kind: Exclude<WriterRefusalKind, 'token'>): FenceVerdict {
    const fence = this.fence;
    if (fence === undefined) return { ok: true };
    const holderLive = this.tokens.get(fence.source) === fence.token;
    if (source === fence.source && holderLive) return { ok: true };
    if (!this.tokens.has(source) && !holderLive) return { ok: true };
    if (this.told.has(source)) return { ok: false, refusal: undefined };
    this.told.add(source);
    return { ok: false, refusal: this.refusal(kind) };
  }

  /** `source`'s stream closed or was replaced: the new one must claim again. The fence stays. */
  streamEnded(source: string): void {
    this.tokens.delete(source);
    this.told.delete(source);
  }

  /** The relay holding the largest token, as the agent knows it; undefined before any. */
  get holder(): string | undefined {
    return this.fence?.source;
  }

  private refusal(refused: WriterRefusalKind): WriterRefusal {
    return { refused, current: this.fence!.token, holder: this.fence!.source };
  }
}
