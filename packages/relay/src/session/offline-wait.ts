import { LifelineError } from '@lifeline/shared/core';

/**
 * People waiting at a terminal for an offline device's agent to come back. `wait` resolves when
 * the device's console stream is up again (`wake`), and rejects with LifelineError
 * ROUTE_DEVICE_OFFLINE when the person gives up (the signal aborts) or the relay shuts down.
 */
export class OfflineWaiters {
  private readonly waiting = new Map<string, Set<{ resolve(): void; reject(err: Error): void }>>();

  wait(deviceId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const set = this.waiting.get(deviceId) ?? new Set();
      this.waiting.set(deviceId, set);
      const done = () => {
        set.delete(waiter);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter = {
        resolve: () => (done(), resolve()),
        reject: (err: Error) => (done(), reject(err)),
      };
      const onAbort = () => waiter.reject(new LifelineError('ROUTE_DEVICE_OFFLINE', `lifeline: gave up waiting for ${deviceId}.`));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
    });
  }

  /** The device's console is reachable again: everyone waiting for it goes on. */
  wake(deviceId: string): void {
    for (const waiter of [...(this.waiting.get(deviceId) ?? [])]) waiter.resolve();
  }

  /** Ends every wait with this line (relay shutdown). */
  closeAll(line: string): void {
    for (const set of this.waiting.values())
      for (const waiter of [...set]) waiter.reject(new LifelineError('ROUTE_DEVICE_OFFLINE', `lifeline: ${line}`));
  }

  get size(): number {
    return [...this.waiting.values()].reduce((n, set) => n + set.size, 0);
  }
}

/**
 * "rtr-tokyo-01 is offline (agent last seen 3 min ago). Waiting for it to come back; press
 * Ctrl-C or ^] then . to give up." `offlineSinceMs` is undefined when the agent has not been
 * seen since the relay started.
 */
export function offlineWaitLine(deviceId: string, offlineSinceMs: number | undefined, nowMs: number, giveUpKeys: string): string {
  const seen =
    offlineSinceMs === undefined ? 'its agent has not connected since the relay started' : `agent last seen ${ago(nowMs - offlineSinceMs)}`;
  return `${deviceId} is offline (${seen}). Waiting for it to come back; press ${giveUpKeys} to give up.`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}
