import type { PowerAction } from '@lifeline/shared';
import type {
  AttachmentFor,
  ConsoleAttachment,
  ConsoleBroker,
  ConsoleRequest,
  DeviceChoice,
  ObserverAttachment,
  ParticipantAttachment,
  PartyTerminal,
  TerminalSize,
} from '../../session/console-broker.js';
import { observerRights, participantRights, type ConsoleRights, type ConsoleRuleFacts } from '../../session/console-rules.js';
import type { Person } from '../../session/person.js';
import type { AgentTunnel, HealthCheckRecord, TunnelRegistrar } from '../../tunnel/agent-tunnel.js';

/** What the fake broker saw of one participant's attachment. */
export class RecordedAttachment implements ParticipantAttachment {
  readonly kind = 'participant';
  readonly inputs: Buffer[] = [];
  readonly breaks: Array<number | undefined> = [];
  readonly resizes: TerminalSize[] = [];
  detachedWith: string | undefined;
  /** Set to make sendBreak reject, as when the device went away. */
  breakError: Error | undefined;

  constructor(
    readonly deviceId: string,
    readonly request: ConsoleRequest,
    readonly terminal: PartyTerminal,
    private readonly echo: boolean,
    private readonly changed: () => void,
  ) {}

  /** While set, input() resolves only once it does: a console path that is slow to take input. */
  inputGate: Promise<void> | undefined;

  async input(data: Buffer): Promise<void> {
    this.inputs.push(Buffer.from(data));
    if (this.echo) this.terminal.write(data);
    this.changed();
    if (this.inputGate) await this.inputGate;
  }

  async sendBreak(requestedMs: number | undefined): Promise<void> {
    if (this.breakError) throw this.breakError;
    this.breaks.push(requestedMs);
    this.changed();
  }

  resize(size: TerminalSize): void {
    this.resizes.push(size);
    this.changed();
  }

  /** Counts takeovers; set `takeOverError` to refuse them. */
  takeOvers = 0;
  takeOverError: Error | undefined;

  async takeOver(): Promise<void> {
    if (this.takeOverError) throw this.takeOverError;
    this.takeOvers += 1;
    this.changed();
  }

  /** Power actions asked for; answers with `powerAnswer`, or throws `powerError`. */
  readonly powerActions: string[] = [];
  powerAnswer = 'Chassis Power is on';
  powerError: Error | undefined;

  async power(action: PowerAction): Promise<string> {
    this.powerActions.push(action);
    this.changed();
    if (this.powerError) throw this.powerError;
    return this.powerAnswer;
  }

  async who(): Promise<string[]> {
    return [`${this.request.person.user} (you): read-write`];
  }

  /** What rights() answers: a supervisor with read-write on a console with a BMC, unless changed. */
  ruleFacts: ConsoleRuleFacts = { role: 'supervisor', isWriter: true, writer: undefined, power: true };

  rights(): ConsoleRights {
    return participantRights(this.ruleFacts);
  }

  detach(reason: string): void {
    this.detachedWith ??= reason;
    this.changed();
  }

  get inputText(): string {
    return Buffer.concat(this.inputs).toString('latin1');
  }
}

/** What the fake broker saw of one observer's (`:watch`) attachment: no input path at all. */
export class RecordedObserver implements ObserverAttachment {
  readonly kind = 'observer';
  readonly resizes: TerminalSize[] = [];
  /** How often the power state was asked for. */
  powerStatusAsked = 0;
  detachedWith: string | undefined;

  constructor(
    readonly deviceId: string,
    readonly request: ConsoleRequest,
    readonly terminal: PartyTerminal,
    private readonly changed: () => void,
  ) {}

  resize(size: TerminalSize): void {
    this.resizes.push(size);
    this.changed();
  }

  async powerStatus(): Promise<string> {
    this.powerStatusAsked += 1;
    this.changed();
    return 'Chassis Power is on';
  }

  async who(): Promise<string[]> {
    return [`${this.request.person.user} (you): watching`];
  }

  /** What rights() answers: the real rules for a supervisor on :watch at a console with a BMC, unless changed. */
  ruleFacts: ConsoleRuleFacts = { role: 'supervisor', isWriter: false, writer: undefined, power: true };

  rights(): ConsoleRights {
    return observerRights(this.ruleFacts);
  }

  detach(reason: string): void {
    this.detachedWith ??= reason;
    this.changed();
  }
}

/**
 * A ConsoleBroker for SSH-front tests: echoes input back (unless told not to), records breaks,
 * resizes and detaches, and throws whatever `refuse` returns for a request.
 */
export class FakeBroker implements ConsoleBroker {
  readonly attachments: RecordedAttachment[] = [];
  /** The `:watch` requests' attachments. */
  readonly observers: RecordedObserver[] = [];
  readonly requests: ConsoleRequest[] = [];
  echo = true;
  refuse: (request: ConsoleRequest) => Error | undefined = () => undefined;
  /** What devicesFor() answers, for every user. */
  choices: DeviceChoice[] = [];
  /** While set, attach() waits for it: a console that takes its time to attach. */
  gate: Promise<void> | undefined;
  private waiters: Array<() => void> = [];

  devicesFor(): DeviceChoice[] {
    return this.choices;
  }

  async attach<P extends Person>(request: ConsoleRequest<P>, terminal: PartyTerminal): Promise<AttachmentFor<P>> {
    this.requests.push(request);
    this.changed();
    if (this.gate) await this.gate;
    const error = this.refuse(request);
    this.changed();
    if (error) throw error;
    const deviceId = request.deviceId ?? 'default-device';
    if (request.person.attachAs === 'observer') {
      const observer = new RecordedObserver(deviceId, request, terminal, () => this.changed());
      this.observers.push(observer);
      this.changed();
      return observer as ConsoleAttachment as AttachmentFor<P>;
    }
    const attachment = new RecordedAttachment(deviceId, request, terminal, this.echo, () => this.changed());
    this.attachments.push(attachment);
    this.changed();
    return attachment as ConsoleAttachment as AttachmentFor<P>;
  }

  /** Resolves with `check()` once it is truthy (checked after every recorded change), or rejects after `ms`. */
  until<T>(check: () => T | undefined | null | false | 0 | '', ms = 10_000): Promise<T> {
    return waitFor(check, ms, (wake) => this.waiters.push(wake));
  }

  private changed(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** A TunnelRegistrar that keeps what it is given. */
export class FakeRegistrar implements TunnelRegistrar {
  readonly tunnels: AgentTunnel[] = [];
  private waiters: Array<() => void> = [];

  readonly checks: Array<{ deviceId: string; check: HealthCheckRecord }> = [];

  add(tunnel: AgentTunnel): void {
    this.tunnels.push(tunnel);
    for (const wake of this.waiters.splice(0)) wake();
  }

  current(deviceId: string): AgentTunnel | undefined {
    return this.tunnels.filter((t) => t.deviceId === deviceId).at(-1);
  }

  recordCheck(deviceId: string, check: HealthCheckRecord): void {
    this.checks.push({ deviceId, check });
    for (const wake of this.waiters.splice(0)) wake();
  }

  until<T>(check: () => T | undefined | null | false | 0 | '', ms = 10_000): Promise<T> {
    return waitFor(check, ms, (wake) => this.waiters.push(wake));
  }
}

function waitFor<T>(check: () => T | undefined | null | false | 0 | '', ms: number, subscribe: (wake: () => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`condition not met within ${ms} ms: ${check.toString()}`)), ms);
    const attempt = () => {
      const value = check();
      if (value) {
        clearTimeout(timer);
        resolve(value);
      } else {
        subscribe(attempt);
      }
    };
    attempt();
  });
}
