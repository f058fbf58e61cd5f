import { LifelineError, systemClock, type Clock, type Logger, type PowerAction, type RelayDeviceConfig, type TimerHandle } from '@lifeline/shared';
import { discardRecorders, type RecorderFactory, type SessionRecorder } from '../recording/session-recorder.js';
import type { AttachmentBase, AttachmentFor, ConsoleAttachment, PartyTerminal } from './console-broker.js';
import { Party, type PartyInfo } from './party.js';
import { consoleRights, enforce, powerVerdict, type ConsoleRights } from './console-rules.js';
import { recordingStatusReporter } from './recording-status.js';
import type { SessionSnapshot } from './session-snapshot.js';
import { whoLines } from './who-lines.js';
import type { ConsoleStatus, UpstreamConsole } from './upstream-console.js';

/** The device's continuous console log as the hub uses it (recording/console-log.ts). */
export interface DeviceConsoleLog {
  append(chunk: Buffer): void;
  note(text: string): void;
  /** Recent output, framed for a person who joins (empty when there is none). */
  joinScrollback(): Buffer;
}

export interface DeviceHubDeps {
  logger: Logger;
  clock?: Clock;
  recorders?: RecorderFactory;
  /** Record what the writer types as well (asciicast "i" events). */
  recordInput?: boolean;
  consoleLog?: DeviceConsoleLog;
  /** Output queued for a viewer that cannot keep up before it is cut off. */
  viewerBufferBytes?: number;
  /** Power control through the device's agent (tunnel/power-request.ts). */
  power?(action: PowerAction): Promise<string>;
}

/**
 * One device's console on the relay (Teleport's terminal multiplexer): a single upstream stream
 * to the agent, fanned out to every person attached, to each one's recording and to the
 * device's continuous log. One person at a time has read-write; the others watch. The upstream
 * outlives the people: people attached while the agent reconnects stay attached and are told.
 */
export class DeviceHub {
  private upstream: UpstreamConsole | undefined;
  private readonly parties = new Set<Party>();
  private writer: Party | undefined;
  private status: ConsoleStatus | undefined;
  private breakTimer: TimerHandle | undefined;
  private traffic = { since: 0, bytesIn: 0, bytesOut: 0 };
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recorders: RecorderFactory;

  constructor(
    readonly device: RelayDeviceConfig,
    private readonly deps: DeviceHubDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger.child({ component: 'device-hub', deviceId: device.id });
    this.recorders = deps.recorders ?? discardRecorders;
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
    this.deps.consoleLog?.note('agent connected');
    if (previous === undefined && this.parties.size > 0) {
      this.markAll('device online');
      this.noticeAll('the device is back online.');
    }
  }

  /** A `watch` party gets an ObserverAttachment (no input path at all), any other a ParticipantAttachment. */
  async attach<I extends PartyInfo & { term: string | undefined }>(info: I, terminal: PartyTerminal): Promise<AttachmentFor<I>> {
    if (!this.upstream) {
      throw new LifelineError('ROUTE_DEVICE_OFFLINE', `lifeline: device ${this.device.id} is offline (its edge agent is not connected).`);
    }
    const recorder = this.openRecorder(info, terminal);
    const party = new Party(info, terminal, recorder, this.clock);
    if (this.parties.size === 0) this.traffic = { since: this.clock.now(), bytesIn: 0, bytesOut: 0 };
    this.markAll(`${info.user} joined`);
    this.parties.add(party);
    this.audit(party, 'session.start', { mode: info.watch ? 'watch' : 'auto', recording: recorder.path }, 'console session started');
    // Context for whoever joins, on a terminal only: a pty-less session carries console bytes alone.
    const scrollback = info.size ? this.deps.consoleLog?.joinScrollback() : undefined;
    if (scrollback?.length) terminal.write(scrollback);
    if (!info.watch && !this.writer) this.setWriter(party, 'first');
    else terminal.notice(this.readOnlyLine(party));
    if (this.status?.state === 'down' && this.status.message) terminal.notice(this.status.message);
    const base: AttachmentBase = {
      deviceId: this.device.id,
      resize: (size) => {
        party.size = size;
        party.recorder.resize(size);
      },
      who: () => whoLines([...this.parties], this.writer, party),
      rights: () => this.rights(party),
      detach: (reason) => this.detach(party, reason),
    };
    const attachment: ConsoleAttachment = info.watch
      ? { ...base, mode: 'watch', powerStatus: () => this.power(party, 'status') }
      : {
          ...base,
          mode: 'participate',
          input: (data) => this.input(party, data),
          sendBreak: (ms) => this.sendBreak(party, ms),
          takeOver: async () => this.takeOver(party),
          power: (action) => this.power(party, action),
        };
    // info.watch decided the kind just above, as AttachmentFor<I> says.
    return attachment as AttachmentFor<I>;
  }

  /** What `lifeline-relay sessions` shows; undefined when nobody is attached. */
  snapshot(): SessionSnapshot | undefined {
    if (this.parties.size === 0) return undefined;
    return {
      deviceId: this.device.id,
      writer: this.writer?.user,
      viewers: [...this.parties].filter((p) => p !== this.writer).map((p) => p.user),
      since: new Date(this.traffic.since).toISOString(),
      bytesIn: this.traffic.bytesIn,
      bytesOut: this.traffic.bytesOut,
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
    if (party !== this.writer) {
      party.noteIgnoredInput(this.writer?.user);
      return Promise.resolve();
    }
    const upstream = this.upstream;
    if (!upstream) return Promise.resolve();
    party.bytesIn += data.length;
    this.traffic.bytesIn += data.length;
    if (this.deps.recordInput) party.recorder.input(data);
    if (upstream.write(data)) return Promise.resolve();
    return new Promise((resolve) => upstream.onceDrain(resolve));
  }

  private async sendBreak(party: Party, requestedMs: number | undefined): Promise<void> {
    const upstream = this.upstream;
    if (!upstream) throw new LifelineError('ROUTE_DEVICE_OFFLINE', `device ${this.device.id} is offline.`);
    enforce(this.rights(party).sendBreak);
    // PuTTY asks for 0 ("server default"), OpenSSH for 1000 ms; some ROMMONs ignore short breaks.
    const ms = !requestedMs ? this.device.breakMs : Math.min(requestedMs, this.device.maxBreakMs);
    this.breakTimer?.cancel();
    upstream.setBreak(true);
    this.breakTimer = this.clock.setTimeout(() => {
      this.breakTimer = undefined;
      this.upstream?.setBreak(false);
    }, ms);
    this.markAll(`BREAK ${ms} ms by ${party.user}`);
    this.deps.consoleLog?.note(`BREAK ${ms} ms by ${party.user}`);
    this.audit(party, 'console.break', { ms, requestedMs }, 'BREAK sent');
  }

  private async power(party: Party, action: PowerAction): Promise<string> {
    enforce(powerVerdict(this.rights(party), action));
    if (!this.deps.power) throw new LifelineError('POWER_UNSUPPORTED', `${this.device.id} has no power control.`);
    if (action !== 'status') this.deps.consoleLog?.note(`power ${action} requested by ${party.user}`);
    try {
      const answer = await this.deps.power(action);
      this.recordPower(party.user, action, answer, party);
      return answer;
    } catch (err) {
      this.recordPower(party.user, action, `failed: ${(err as Error).message}`, party);
      throw err;
    }
  }

  /** Marks a power action in every recording and the audit log (also for the admin CLI). */
  recordPower(user: string, action: PowerAction, result: string, party?: Party): void {
    if (action !== 'status') this.markAll(`power ${action} by ${user}: ${result}`);
    this.logger.info(
      { event: 'console.power', user, action, result, ...(party ? { sessionId: party.info.sessionId, peer: party.info.peer } : {}) },
      `power ${action}`,
    );
  }

  private takeOver(party: Party): void {
    enforce(this.rights(party).takeOver);
    const current = this.writer;
    this.setWriter(party, current ? 'takeover' : 'free', current);
  }

  /** What this person may do now: the one rule object handlers and menus share (console-rules.ts). */
  private rights(party: Party): ConsoleRights {
    const power = this.deps.power ? this.status?.power : false;
    return consoleRights({ role: party.info.role, watch: party.info.watch, isWriter: party === this.writer, writer: this.writer?.user, power });
  }

  private setWriter(next: Party | undefined, reason: 'first' | 'free' | 'takeover' | 'writer-left', previous?: Party): void {
    this.writer = next;
    this.logger.info(
      { event: 'session.writer', from: previous?.user, to: next?.user, reason, sessionId: next?.info.sessionId, peer: next?.info.peer },
      `read-write: ${previous?.user ?? 'nobody'} -> ${next?.user ?? 'nobody'}`,
    );
    if (reason !== 'first') this.markAll(`${reason}: read-write ${previous?.user ?? 'nobody'} -> ${next?.user ?? 'nobody'}`);
    if (previous) {
      previous.resetReadOnlyNotice();
      previous.terminal.notice(`${next?.user ?? 'somebody'} took over read-write; you are now read-only.`);
    }
    if (next && reason !== 'first') next.terminal.notice('you now have read-write.');
  }

  private fanOut(chunk: Buffer): void {
    this.traffic.bytesOut += chunk.length;
    this.deps.consoleLog?.append(chunk);
    const bound = this.deps.viewerBufferBytes ?? 256 * 1024;
    for (const party of this.parties) {
      if (party !== this.writer) {
        party.viewerOutput(chunk, bound);
        continue;
      }
      if (party.writerOutput(chunk)) continue;
      // The writer's channel is full: hold the device's output back rather than buffer it here.
      const upstream = this.upstream;
      upstream?.pause();
      party.terminal.onceDrain(() => upstream?.resume());
    }
  }

  private statusChanged(status: ConsoleStatus): void {
    this.logger.info({ event: 'console.status', state: status.state, message: status.message }, 'console status');
    this.status = status;
    if (!status.message) return;
    this.deps.consoleLog?.note(status.message);
    this.markAll(`console ${status.state}: ${status.message}`);
    this.noticeAll(status.message);
  }

  private upstreamClosed(upstream: UpstreamConsole): void {
    if (this.upstream !== upstream) return;
    this.upstream = undefined;
    this.breakTimer?.cancel();
    this.deps.consoleLog?.note('agent disconnected');
    if (this.parties.size === 0) return;
    this.markAll('device offline');
    this.noticeAll('connection to the device was lost; waiting for its agent to come back.');
  }

  private detach(party: Party, reason: string): void {
    if (!this.parties.delete(party)) return;
    party.recorder.marker(`disconnect: ${reason}`);
    void party.recorder.close();
    this.audit(party, 'session.end', { reason, bytesIn: party.bytesIn, bytesOut: party.bytesOut, durationMs: this.clock.now() - party.joinedAt }, 'console session ended');
    this.markAll(`${party.user} left`);
    if (this.writer !== party) return;
    // The earliest to join who did not come only to watch inherits read-write.
    const heir = [...this.parties].find((p) => !p.info.watch);
    this.setWriter(heir, 'writer-left', undefined);
    if (heir) heir.terminal.notice(`${party.user} left; you now have read-write.`);
  }

  /** Returns at once: the file is made in the background and its status told to the person (recording-status.ts). */
  private openRecorder(info: PartyInfo & { term: string | undefined }, terminal: PartyTerminal): SessionRecorder {
    let recorder: SessionRecorder | undefined;
    return (recorder = this.recorders.open({
      deviceId: this.device.id,
      user: info.user,
      sessionId: info.sessionId,
      size: info.size ?? { cols: 80, rows: 24 },
      term: info.term,
      startedAt: new Date(this.clock.now()),
      onStatus: recordingStatusReporter({ info, terminal, logger: this.logger, clock: this.clock, path: () => recorder?.path }),
    }));
  }

  private readOnlyLine(party: Party): string {
    if (party.info.watch) return `watching read-only${this.writer ? `; ${this.writer.user} has read-write` : ''}.`;
    return `${this.writer?.user ?? 'somebody'} has read-write; you are read-only${this.rights(party).takeOver.allowed ? ' (escape key, then t, takes over)' : ''}.`;
  }

  private audit(party: Party, event: string, fields: Record<string, unknown>, msg: string): void {
    this.logger.info({ event, user: party.user, sessionId: party.info.sessionId, peer: party.info.peer, ...fields }, msg);
  }

  private markAll(label: string): void {
    for (const party of this.parties) party.recorder.marker(label);
  }

  private noticeAll(line: string): void {
    for (const party of this.parties) party.terminal.notice(line);
  }
}
