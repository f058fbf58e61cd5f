import {
  isCanceled,
  isLifelineError,
  systemClock,
  type Clock,
  type ConsoleStatus,
  type Logger,
  type TimerHandle,
  type WriterRefusal,
} from '@lifeline/shared/core';
import type { ConsoleFacts } from './console-facts.js';
import type { ConsolePort } from './console-port.js';
import type { ConsoleStream } from './console-stream.js';
import { WriterFence, type FenceVerdict } from './writer-fence.js';

export interface ConsoleServiceOptions {
  deviceId: string;
  port: ConsolePort;
  /** Pause between attempts to open a console that is missing or failed. */
  retryMs: number;
  /** Break length for a plain Telnet IAC BREAK, which carries none; PULSE_BREAK_MS unless a test says otherwise. */
  pulseBreakMs?: number;
  /** A break left on longer than this is cleared, in case the relay's "off" never comes; BREAK_CLEAR_MS unless a test says otherwise. */
  maxBreakMs?: number;
  logger: Logger;
  clock?: Clock;
  /** Kind, line settings and power capability, sent with every status (console-facts.ts). */
  facts?: ConsoleFacts;
  /** Every change of the console's state (the status LED listens). */
  onStatus?(status: ConsoleStatus): void;
  /** Bytes moved either way; called per chunk, so keep it cheap. */
  onTraffic?(): void;
  /** Which relay may write (the daemon's starts from the remembered one); a fresh, open fence by default. */
  fence?: WriterFence;
}

/** The source of streams when the caller names none: one relay. */
const ONE_RELAY = 'relay';

/**
 * Length of a BREAK asked for without one (a plain Telnet IAC BREAK). Not configurable here: the
 * relay times every BREAK a person sends (devices[].breakMs, clamped to maxBreakMs) with RFC 2217
 * BREAK on/off; this is the schema's breakMs default, for a peer that sends only IAC BREAK.
 */
export const PULSE_BREAK_MS = 500;

/**
 * A BREAK still on after this long is cleared by the agent itself, in case the relay's "off" never
 * comes (a tunnel lost mid-BREAK). Not configurable: it is the most the relay's schema allows for
 * devices[].maxBreakMs, so it never cuts a BREAK the relay asked for.
 */
export const BREAK_CLEAR_MS = 10_000;

/**
 * Keeps one device console open for as long as the agent runs (reopening it when a USB adapter
 * is replugged) and bridges it to the relay's current console stream. The console never takes
 * the agent down: a missing port is a status the people attached are told about, not a crash.
 */
export class ConsoleService {
  /** The current stream of each relay (source); a relay alone has one. */
  private readonly streams = new Map<string, ConsoleStream>();
  /** Which relay may write: the one holding the group's largest writer token (writer-fence.ts). */
  private readonly fence: WriterFence;
  /** Output waiting for a full stream to drain; released when it closes instead. */
  private readonly draining = new Map<ConsoleStream, () => void>();
  private status: ConsoleStatus = { state: 'down' };
  private running = false;
  private wake: (() => void) | undefined;
  private breakTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readLoop: Promise<void> | undefined;

  constructor(private readonly options: ConsoleServiceOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'console', deviceId: options.deviceId });
    this.fence = options.fence ?? new WriterFence();
  }

  get consoleStatus(): ConsoleStatus {
    return this.status;
  }

  start(): void {
    this.running = true;
    this.readLoop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.breakTimer?.cancel();
    this.wake?.();
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
    await this.options.port.close();
    await this.readLoop;
  }

  /**
   * A new stream from a relay replaces that relay's previous one: one console, one stream per
   * relay. `source` names the relay (its address) when the agent has tunnels to several relays of
   * a group: each gets the output, and input comes only from the relay holding the group's
   * writer lease, fenced by its token (writer-fence.ts).
   */
  attachStream(stream: ConsoleStream, source: string = ONE_RELAY): void {
    const previous = this.streams.get(source);
    this.streams.set(source, stream);
    this.fence.streamEnded(source);
    previous?.close();
    stream.onClose(() => {
      this.draining.get(stream)?.();
      if (this.streams.get(source) !== stream) return;
      this.streams.delete(source);
      this.fence.streamEnded(source);
    });
    stream.onWriterClaim((token) => this.claimed(stream, source, token));
    stream.onData((chunk) => this.toDevice(stream, source, chunk));
    stream.onBreak((action) => void this.onBreak(stream, source, action));
    stream.sendStatus(this.wireStatus(this.status));
    this.logger.info(
      { event: 'console.stream.attached', ...(source === ONE_RELAY ? {} : { relay: source }) },
      'relay attached to the console',
    );
  }

  private async run(): Promise<void> {
    const { port } = this.options;
    while (this.running) {
      try {
        await port.open();
      } catch (err) {
        this.setStatus({ state: 'down', message: `${messageOf(err)}; retrying every ${+(this.options.retryMs / 1000).toFixed(1)} s` }, err);
        await this.pause(this.options.retryMs);
        continue;
      }
      // Only say "is back" when people were told it was gone.
      this.setStatus({ state: 'up', message: this.status.message ? `${port.description} is back` : undefined });
      await this.pumpToRelay();
    }
  }

  /** Device -> relay until the port closes or goes away. */
  private async pumpToRelay(): Promise<void> {
    const { port } = this.options;
    for (;;) {
      let chunk: Buffer;
      try {
        chunk = await port.read();
      } catch (err) {
        if (isCanceled(err) || !this.running) return;
        this.setStatus({ state: 'down', message: `${messageOf(err)}; waiting for it to come back` }, err);
        await port.close().catch(() => undefined);
        await this.pause(this.options.retryMs);
        return;
      }
      this.logger.trace({ bytes: chunk.length }, 'console output');
      this.options.onTraffic?.();
      // Nobody on the relay side: the output is dropped, as on an unattended console line. Every
      // relay gets it; the next read waits for the ones whose stream is full.
      const full = [...this.streams.values()].filter((stream) => !stream.write(chunk));
      if (full.length > 0) await Promise.all(full.map((stream) => this.drained(stream)));
    }
  }

  /** Resolves when `stream` drains or closes (a closed stream must not hold the output of the others). */
  private drained(stream: ConsoleStream): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.draining.delete(stream);
        resolve();
      };
      this.draining.set(stream, done);
      stream.onceDrain(done);
    });
  }

  /** A relay says it holds the group's writer lease with `token`: the largest token wins the fence. */
  private claimed(stream: ConsoleStream, source: string, token: bigint): void {
    if (this.streams.get(source) !== stream) return;
    const verdict = this.fence.claim(source, token);
    this.logger.info(
      { event: 'console.writer-token', relay: source, token: token.toString(), accepted: verdict.ok, holder: this.fence.holder },
      verdict.ok ? 'relay holds the writer lease' : 'writer token older than the largest; refused',
    );
    if (!verdict.ok) this.refuse(stream, source, verdict);
  }

  /** Whether `source` may write now; if not, its relay is told once per largest token (writer-fence.ts). */
  private mayWrite(stream: ConsoleStream, source: string, kind: 'input' | 'break'): boolean {
    const verdict = this.fence.mayWrite(source, kind);
    if (verdict.ok) return true;
    this.refuse(stream, source, verdict);
    return false;
  }

  /**
   * Tells a refused relay why: as a LIFELINE-WRITER refusal when it speaks it (the member learns it
   * lost the lease), else as a status line its people see (a relay that predates the lease).
   */
  private refuse(stream: ConsoleStream, source: string, verdict: FenceVerdict & { ok: false }): void {
    const refusal = verdict.refusal;
    if (!refusal) return;
    this.logger.info(
      { event: 'console.input-refused', relay: source, refused: refusal.refused, holder: refusal.holder },
      'input from a relay without the writer lease refused',
    );
    if (!stream.refuseWriter(refusal)) stream.sendStatus(this.wireStatus({ state: this.status.state, message: refusalLine(refusal) }));
  }

  /** Relay -> device, one chunk at a time: the stream stays paused until the port has taken it. */
  private toDevice(stream: ConsoleStream, source: string, chunk: Buffer): void {
    if (!this.options.port.isOpen) return;
    if (!this.mayWrite(stream, source, 'input')) return;
    this.options.onTraffic?.();
    stream.pause();
    this.options.port
      .write(chunk)
      .catch((err) => {
        if (!isCanceled(err)) this.logger.warn({ event: 'console.write.failed', err: messageOf(err) }, 'write to console failed');
      })
      .finally(() => stream.resume());
  }

  private async onBreak(stream: ConsoleStream, source: string, action: 'on' | 'off' | 'pulse'): Promise<void> {
    const { port } = this.options;
    if (action !== 'off' && !this.mayWrite(stream, source, 'break')) return;
    this.breakTimer?.cancel();
    this.breakTimer = undefined;
    try {
      if (action === 'off') {
        await port.setBreak(false);
        return;
      }
      await port.setBreak(true);
      this.logger.info({ event: 'console.break', action }, 'BREAK on the line');
      const ms = action === 'pulse' ? (this.options.pulseBreakMs ?? PULSE_BREAK_MS) : (this.options.maxBreakMs ?? BREAK_CLEAR_MS);
      this.breakTimer = this.clock.setTimeout(() => void port.setBreak(false).catch(() => undefined), ms);
    } catch (err) {
      this.logger.warn({ event: 'console.break.failed', err: messageOf(err) }, 'BREAK failed');
      stream.sendStatus(this.wireStatus({ state: this.status.state, message: messageOf(err) }));
    }
  }

  private setStatus(status: ConsoleStatus, err?: unknown): void {
    // Retries repeat the same status: tell people once, not every few seconds.
    const changed = status.state !== this.status.state || status.message !== this.status.message;
    this.status = status;
    if (!changed) return;
    const level = status.state === 'down' ? 'warn' : 'info';
    this.logger[level](
      { event: 'console.state', to: status.state, code: isLifelineError(err) ? err.code : undefined },
      status.message ?? `${this.options.port.description} open`,
    );
    for (const stream of this.streams.values()) stream.sendStatus(this.wireStatus(status));
    this.options.onStatus?.(status);
  }

  /** What the relay is told: the state, and what the console is (docs/protocol.md). */
  private wireStatus(status: ConsoleStatus): ConsoleStatus {
    return { ...status, ...this.options.facts };
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(done, ms);
      this.wake = done;
      function done() {
        timer.cancel();
        resolve();
      }
    });
  }
}

/** What the people on a relay that predates the writer lease are told when its input is refused. */
function refusalLine(refusal: WriterRefusal): string {
  return (
    `${refusal.refused === 'break' ? 'BREAK' : 'input'} not sent: another relay of the group${refusal.holder ? ` (${refusal.holder})` : ''} ` +
    "has read-write on this console; this relay is too old to take part in the group's writer lease."
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
