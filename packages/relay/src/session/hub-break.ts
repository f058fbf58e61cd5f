import { LifelineError, type Clock, type RelayDeviceConfig, type TimerHandle } from '@lifeline/shared/core';
import type { UpstreamConsole } from './upstream-console.js';

export interface HubBreakDeps {
  device: Pick<RelayDeviceConfig, 'id' | 'breakMs' | 'maxBreakMs'>;
  clock: Clock;
  /** The hub's upstream now (it may change or go while a break is on). */
  upstream(): UpstreamConsole | undefined;
}

/**
 * A device hub's BREAK: holds the line in break for the device's length (or the one asked for,
 * clamped to its maximum), then releases it on whatever upstream is current. A new break while
 * one is on restarts the length; an upstream that goes ends the timer (the new one starts clear).
 * Who may send one is the rules' (console-rules.ts), checked by the hub before calling.
 */
export class HubBreak {
  private timer: TimerHandle | undefined;

  constructor(private readonly deps: HubBreakDeps) {}

  /**
   * Starts a break and returns its length in ms (the hub marks and audits it). `requestedMs` 0 or undefined means the device's default (PuTTY
   * asks for 0, "server default"; OpenSSH for 1000 ms; some ROMMONs ignore short breaks).
   * Throws LifelineError ROUTE_DEVICE_OFFLINE when there is no upstream.
   */
  send(requestedMs: number | undefined): number {
    const upstream = this.deps.upstream();
    const { device } = this.deps;
    if (!upstream) throw new LifelineError('ROUTE_DEVICE_OFFLINE', `device ${device.id} is offline.`);
    const ms = !requestedMs ? device.breakMs : Math.min(requestedMs, device.maxBreakMs);
    this.timer?.cancel();
    upstream.setBreak(true);
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.deps.upstream()?.setBreak(false);
    }, ms);
    return ms;
  }

  /** Forgets a break in progress (the upstream went, or the hub closes). */
  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
