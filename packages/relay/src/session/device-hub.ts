import { LifelineError, systemClock, type Clock, type Logger, type PowerAction, type RelayDeviceConfig } from '@lifeline/shared/core';
import type { RecorderFactory } from '../recording/session-recorder.js';
import type { AttachmentBase, AttachmentFor, ConsoleAttachment, ConsoleRequest, PartyTerminal } from './console-broker.js';
import { Party } from './party.js';
import { personLogFields, type Person, type Role } from './person.js';
import { enforce, observerRights, participantRights, powerVerdict, type ConsoleRights, type ConsoleRuleFacts } from './console-rules.js';
import { HubBreak } from './hub-break.js';
import { HubPower } from './hub-power.js';
import { showLateJoinerHistory, type DeviceConsoleLog } from './late-joiner-history.js';
import { PartyRecordings } from './party-recordings.js';
import { snapshotPeople, type SessionSnapshot } from './session-snapshot.js';
import { whoLines, whoLinesElsewhere, type PeopleElsewhere } from './who-lines.js';
import type { ConsoleStatus, UpstreamConsole } from './upstream-console.js';
import { WriterSeat } from './writer-seat.js';
import { localSeatLease, type DeviceSeatLease } from './seat-lease.js';

export type { DeviceConsoleLog } from './late-joiner-history.js';

export interface DeviceHubDeps {
  logger: Logger;
  clock?: Clock;
  recorders?: RecorderFactory;
  /** Record what the writer types as well (asciicast "i" events). */
  recordInput?: boolean;
  consoleLog?: DeviceConsoleLog;
  /** Output queued for a viewer that cannot keep up before it is cut off (`viewerBufferBytes`). */
  viewerBufferBytes: number;
  /** Power control through the device's agent (tunnel/power-request.ts). */
  power?: (action: PowerAction) => Promise<string>;
  /**
   * A person's role now, asked at each action (take over, power) and never kept: a reload that
   * demotes a supervisor applies to their next action.
   */
  roleOf: (person: Person) => Role;
  /**
   * In a relay group: the people on this device through the other members (the group's session
   * tracker); rejects while that is unknown (its database away).
   */
  peopleElsewhere?: () => Promise<PeopleElsewhere[]>;
  /** Whether this relay may give read-write (seat-lease.ts): the relay group's writer lease; a relay alone always may. */
  seatLease?: DeviceSeatLease;
}

/**
 * One device's console on the relay (Teleport's terminal multiplexer): a single upstream stream
 * to the agent, fanned out to every person attached, to each one's recording and to the
 * device's continuous log. One person at a time has read-write; the others watch. The upstream
 * outlives the people: people attached while the agent reconnects stay attached and are told.
 * Who holds read-write is the WriterSeat's (writer-seat.ts), power the HubPower's (hub-power.ts),
 * recordings the PartyRecordings' (party-recordings.ts), BREAK the HubBreak's (hub-break.ts), the
 * late joiner's history late-joiner-history.ts'; what a person may do, console-rules.ts.
 */
export class DeviceHub {
  private upstream: UpstreamConsole | undefined;
  private readonly parties = new Set<Party>();
  private readonly seat: WriterSeat;
  private status: ConsoleStatus | undefined;
  private traffic = { since: 0, bytesIn: 0, bytesOut: 0 };
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recordings: PartyRecordings;
  private readonly powerControl: HubPower;
  private readonly breaks: HubBreak;

  constructor(
    private config: RelayDeviceConfig,
    private readonly deps: DeviceHubDeps,
  ) {
    const device = config;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger.child({ component: 'device-hub', deviceId: device.id });
    this.recordings = new PartyRecordings({ deviceId: device.id, logger: this.logger, clock: this.clock, recorders: deps.recorders });
    const markAll = (label: string) => this.markAll(label);
    this.seat = new WriterSeat({
      logger: this.logger,
      markAll,
      noticeAll: (line) => this.noticeAll(line),
      parties: () => this.parties,
      lease: deps.seatLease ?? localSeatLease,
      sendToken: (token) => this.upstream?.claimWriter?.(token),
    });
    this.powerControl = new HubPower({
      deviceId: device.id,
      logger: this.logger,
      note: (text) => this.deps.consoleLog?.note(text),
      markAll,
      power: deps.power,
    });
    this.breaks = new HubBreak({
      device,
      clock: this.clock,
      upstream: () => this.upstream,
    });
  }

  /** The device's settings (BREAK lengths, description) as of the last reload. */
  get device(): RelayDeviceConfig {
    return this.config;
  }

  /** A reload changed the device's settings: they apply to the next BREAK and greeting. */
  reconfigure(device: RelayDeviceConfig): void {
    this.config = device;
  }

  private get writer(): Party<'participant'> | undefined {
    return this.seat.holder;
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
    upstream.onWriterRefusal?.((refusal) => void this.seat.refused(refusal));
    this.seat.resendToken();
    this.deps.consoleLog?.note('agent connected');
    if (previous === undefined && this.parties.size > 0) {
      this.markAll('device online');
      this.noticeAll('the device is back online.');
    }
  }

  /**
   * Attaches `person` at `term` (undefined: no pty). An observer gets an ObserverAttachment (no
   * input path at all), a participant a ParticipantAttachment: the person's `attachAs` decides.
   */
  async attach<P extends Person>(person: P, terminal: PartyTerminal, term: ConsoleRequest['term']): Promise<AttachmentFor<P>> {
    if (!this.upstream) {
      throw new LifelineError('ROUTE_DEVICE_OFFLINE', `lifeline: device ${this.device.id} is offline (its edge agent is not connected).`);
    }
    const recorder = this.recordings.open(person, term, terminal);
    const party = new Party(person, terminal, recorder, this.clock);
    if (this.parties.size === 0) this.traffic = { since: this.clock.now(), bytesIn: 0, bytesOut: 0 };
    this.markAll(`${person.user} joined`);
    this.parties.add(party);
    this.audit(party, 'session.start', { recording: recorder.path }, 'console session started');
    showLateJoinerHistory(this.deps.consoleLog, terminal, term?.size);
    // The kind of attachment picks the rule set: an observer's rights come from observerRights
    // and it has nothing that acts, a participant's from participantRights (console-rules.ts).
    const attachment = party.isParticipant() ? this.participantAttachment(party) : this.observerAttachment(party);
    const seated = party.isParticipant() && (await this.seat.seatIfFree(party));
    if (!seated) terminal.notice(this.seat.readOnlyLine(party, attachment.rights().takeOver.allowed));
    if (this.status?.state === 'down' && this.status.message) terminal.notice(this.status.message);
    // person.attachAs decided the kind just above, as AttachmentFor<P> says.
    return attachment as AttachmentFor<P>;
  }

  private observerAttachment(party: Party): ConsoleAttachment {
    const rights = () => observerRights(this.ruleFacts(party));
    return { ...this.attachmentBase(party, rights), kind: 'observer', powerStatus: () => this.power(party, 'status', rights()) };
  }

  private participantAttachment(party: Party<'participant'>): ConsoleAttachment {
    const rights = () => participantRights(this.ruleFacts(party));
    return {
      ...this.attachmentBase(party, rights),
      kind: 'participant',
      input: (data) => this.input(party, data),
      sendBreak: (ms) => this.sendBreak(party, ms, rights),
      takeOver: async () => this.takeOver(party, rights()),
      power: (action) => this.power(party, action, rights()),
    };
  }

  private attachmentBase(party: Party, rights: () => ConsoleRights): AttachmentBase {
    return {
      deviceId: this.device.id,
      resize: (size) => party.recorder.resize(size),
      who: async () => [...whoLines([...this.parties], this.writer, party), ...(await this.whoElsewhere())],
      rights,
      detach: (reason) => this.detach(party, reason),
    };
  }

  /** `who` lines for the people on this device through the group's other members (none for a relay alone). */
  private async whoElsewhere(): Promise<string[]> {
    if (!this.deps.peopleElsewhere) return [];
    try {
      return whoLinesElsewhere(await this.deps.peopleElsewhere());
    } catch {
      return ["(who is on the group's other relays is unknown now: their database cannot be reached)"];
    }
  }

  /** What `lifeline-relay sessions` shows; undefined when nobody is attached. */
  snapshot(): SessionSnapshot | undefined {
    if (this.parties.size === 0) return undefined;
    return {
      deviceId: this.device.id,
      writer: this.writer?.person.user,
      viewers: [...this.parties].filter((p) => p !== this.writer).map((p) => p.person.user),
      people: snapshotPeople(this.parties, this.writer),
      since: new Date(this.traffic.since).toISOString(),
      bytesIn: this.traffic.bytesIn,
      bytesOut: this.traffic.bytesOut,
    };
  }

  /** Ends one person's sessions here (they left the inventory), each with `line` shown to them; returns how many. */
  endPartiesOf(user: string, line: string): number {
    const theirs = [...this.parties].filter((p) => p.person.user === user);
    for (const party of theirs) {
      party.terminal.notice(line);
      party.terminal.end(1);
      this.detach(party, 'user removed');
    }
    return theirs.length;
  }

  /** Ends every attached session (relay shutdown) and drops the upstream. */
  close(reason: string): void {
    for (const party of [...this.parties]) {
      party.terminal.notice(reason);
      party.terminal.end(0);
      this.detach(party, reason);
    }
    this.breaks.cancel();
    this.seat.close();
    const upstream = this.upstream;
    this.upstream = undefined;
    upstream?.close();
  }

  private input(party: Party, data: Buffer): Promise<void> {
    if (party !== this.writer) {
      party.noteIgnoredInput(this.seat.writerName);
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

  private async sendBreak(party: Party, requestedMs: number | undefined, rights: () => ConsoleRights): Promise<void> {
    if (!this.upstream) throw new LifelineError('ROUTE_DEVICE_OFFLINE', `device ${this.device.id} is offline.`);
    enforce(rights().sendBreak);
    const ms = this.breaks.send(requestedMs);
    this.markAll(`BREAK ${ms} ms by ${party.person.user}`);
    this.deps.consoleLog?.note(`BREAK ${ms} ms by ${party.person.user}`);
    this.audit(party, 'console.break', { ms, requestedMs }, 'BREAK sent');
  }

  private power(party: Party, action: PowerAction, rights: ConsoleRights): Promise<string> {
    return this.powerControl.run(party.person, action, powerVerdict(rights, action));
  }

  /** Marks a power action in every recording and the audit log (the admin CLI's `caller`, console-sessions.ts). */
  recordPower(caller: string, action: PowerAction, result: string): void {
    this.powerControl.record(caller, action, result);
  }

  private takeOver(party: Party<'participant'>, rights: ConsoleRights): Promise<void> {
    enforce(rights.takeOver);
    return this.seat.takeOver(party);
  }

  /** What the rules are decided from now, for this person (console-rules.ts; the attachment's kind picks the rule set). */
  private ruleFacts(party: Party): ConsoleRuleFacts {
    const power = this.powerControl.available ? this.status?.power : false;
    // The role as the inventory has it now: a reload that demotes someone applies at their next action.
    // The writer may be on another relay of the group: the seat names them with it.
    return { role: this.deps.roleOf(party.person), isWriter: party === this.writer, writer: this.seat.writerName, power };
  }

  private fanOut(chunk: Buffer): void {
    this.traffic.bytesOut += chunk.length;
    this.deps.consoleLog?.append(chunk);
    const bound = this.deps.viewerBufferBytes;
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
    this.breaks.cancel();
    this.deps.consoleLog?.note('agent disconnected');
    if (this.parties.size === 0) return;
    this.markAll('device offline');
    this.noticeAll('connection to the device was lost; waiting for its agent to come back.');
  }

  private detach(party: Party, reason: string): void {
    if (!this.parties.delete(party)) return;
    this.recordings.close(party, reason);
    this.audit(
      party,
      'session.end',
      { reason, bytesIn: party.bytesIn, bytesOut: party.bytesOut, durationMs: this.clock.now() - party.joinedAt },
      'console session ended',
    );
    this.markAll(`${party.person.user} left`);
    this.seat.leave(party);
  }

  private audit(party: Party, event: string, fields: Record<string, unknown>, msg: string): void {
    this.logger.info({ event, ...personLogFields(party.person), ...fields }, msg);
  }

  private markAll(label: string): void {
    this.recordings.markAll(this.parties, label);
  }

  private noticeAll(line: string): void {
    for (const party of this.parties) party.terminal.notice(line);
  }
}
