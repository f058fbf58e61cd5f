import { LifelineError, systemClock, type Clock, type Logger, type RelayDeviceConfig, type TimerHandle } from '@lifeline/shared';
import type { ConsoleAttachment, PartyTerminal, TerminalSize } from './console-broker.js';
import type { ConsoleStatus, UpstreamConsole } from './upstream-console.js';

/** Somebody attached to a device's console. */
interface Party {
  readonly user: string;
  readonly sessionId: string;
  readonly terminal: PartyTerminal;
  size: TerminalSize | undefined;
}

export interface DeviceHubDeps {
  logger: Logger;
  clock?: Clock;
}

/**
 * One device's console on the relay: a single upstream stream to the agent, fanned out to every
 * person attached (Teleport's terminal multiplexer). The upstream outlives the people: it is
 * opened when the agent's tunnel comes up and replaced when a newer tunnel arrives, and people
 * attached while the agent reconnects stay attached and are told what happens.
 *
 * For now the first person attached is the writer; shadowing and takeover build on `parties`.
 */
export class DeviceHub {
  private upstream: UpstreamConsole | undefined;
  private readonly parties = new Set<Party>();
  private writer: Party | undefined;
  private status: ConsoleStatus | undefined;
  private breakTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(
    readonly device: RelayDeviceConfig,
    deps: DeviceHubDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger.child({ component: 'device-hub', deviceId: device.id });
  }

  get online(): boolean {
    return this.upstream !== undefined;
  }

  get partyCount(): number {
    return this.parties.size;
  }

  /** The agent's console stream is up (first time, or again after a reconnect). */
  connectUpstream(upstream: UpstreamConsole): void {
    const previous = this.upstream;
    this.upstream = upstream;
    previous?.close();
    upstream.onData((chunk) => this.fanOut(chunk));
    upstream.onStatus((status) => this.statusChanged(status));
    upstream.onClose(() => this.upstreamClosed(upstream));
    if (previous === undefined && this.parties.size > 0) this.noticeAll('the device is back online.');
  }

  attach(user: string, sessionId: string, size: TerminalSize | undefined, terminal: PartyTerminal): ConsoleAttachment {
    if (!this.upstream) {
      throw new LifelineError('ROUTE_DEVICE_OFFLINE', `lifeline: device ${this.device.id} is offline (its edge agent is not connected).`);
    }
    const party: Party = { user, sessionId, terminal, size };
    this.parties.add(party);
    this.writer ??= party;
    this.logger.info({ event: 'party.join', user, sessionId, parties: this.parties.size }, 'person attached');
    if (this.status?.state === 'down' && this.status.message) terminal.notice(this.status.message);
    return {
      deviceId: this.device.id,
      input: (data) => this.input(party, data),
      sendBreak: (ms) => this.sendBreak(party, ms),
      resize: (next) => {
        party.size = next;
      },
      detach: (reason) => this.detach(party, reason),
    };
  }

  /** Ends every attached session (relay shutdown) and drops the upstream. */
  close(reason: string): void {
    for (const party of [...this.parties]) {
      party.terminal.notice(reason);
      party.terminal.end(0);
      this.detach(party, reason);
    }
    this.breakTimer?.cancel();
    const upstream = this.upstream;
    this.upstream = undefined;
    upstream?.close();
  }

  private input(party: Party, data: Buffer): Promise<void> {
    const upstream = this.upstream;
    if (party !== this.writer || !upstream) return Promise.resolve();
    if (upstream.write(data)) return Promise.resolve();
    return new Promise((resolve) => upstream.onceDrain(resolve));
  }

  private async sendBreak(party: Party, requestedMs: number | undefined): Promise<void> {
    const upstream = this.upstream;
    if (!upstream) throw new LifelineError('ROUTE_DEVICE_OFFLINE', `lifeline: device ${this.device.id} is offline.`);
    if (party !== this.writer) return;
    // PuTTY asks for 0 ("server default"), OpenSSH for 1000 ms; some ROMMONs ignore short breaks.
    const ms = !requestedMs ? this.device.breakMs : Math.min(requestedMs, this.device.maxBreakMs);
    this.breakTimer?.cancel();
    upstream.setBreak(true);
    this.breakTimer = this.clock.setTimeout(() => {
      this.breakTimer = undefined;
      this.upstream?.setBreak(false);
    }, ms);
    this.logger.info({ event: 'console.break', user: party.user, sessionId: party.sessionId, ms, requestedMs }, 'BREAK sent');
  }

  private fanOut(chunk: Buffer): void {
    for (const party of this.parties) {
      if (party.terminal.write(chunk) || party !== this.writer) continue;
      // The writer's channel is full: hold the device's output back rather than buffer it here.
      const upstream = this.upstream;
      upstream?.pause();
      party.terminal.onceDrain(() => upstream?.resume());
    }
  }

  private statusChanged(status: ConsoleStatus): void {
    this.logger.info({ event: 'console.status', state: status.state, message: status.message }, 'console status');
    this.status = status;
    if (status.message) this.noticeAll(status.message);
  }

  private upstreamClosed(upstream: UpstreamConsole): void {
    if (this.upstream !== upstream) return;
    this.upstream = undefined;
    this.breakTimer?.cancel();
    if (this.parties.size > 0) this.noticeAll('connection to the device was lost; waiting for its agent to come back.');
  }

  private detach(party: Party, reason: string): void {
    if (!this.parties.delete(party)) return;
    if (this.writer === party) this.writer = this.parties.values().next().value;
    this.logger.info({ event: 'party.leave', user: party.user, sessionId: party.sessionId, reason, parties: this.parties.size }, 'person detached');
  }

  private noticeAll(line: string): void {
    for (const party of this.parties) party.terminal.notice(line);
  }
}
