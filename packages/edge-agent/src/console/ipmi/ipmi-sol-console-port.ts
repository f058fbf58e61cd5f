import { LifelineError, systemClock, type Clock, type IpmiSolConsoleConfig, type Logger } from '@lifeline/shared';
import { ChunkQueue } from '../chunk-queue.js';
import type { ConsolePort } from '../console-port.js';
import { loadIpmiSecret, type IpmiSecret } from './ipmi-password.js';
import { bmcAddress, ipmitoolCommand, type IpmiDeps } from './ipmitool-command.js';
import { consoleOpenError, diagnoseIpmitool } from './ipmitool-diagnosis.js';
import { deactivateStaleSol } from './sol-deactivate.js';
import { SolInputEncoder, SolOutputFilter } from './sol-escape.js';
import { SolProcess, SolStartError, type SolExit } from './sol-process.js';
import { SolWatch } from './sol-watch.js';

export interface IpmiSolConsolePortDeps extends IpmiDeps {
  /** How long open() waits for the BMC to start SOL (default 20 s). */
  openTimeoutMs?: number;
  /** How often the agent asks the BMC whether SOL is still this session's (default 15 s; 0: never). */
  watchIntervalMs?: number;
  /** Checks without an answer in a row before the console counts as lost (default 2). */
  watchFailures?: number;
  /** How long a closing ipmitool may take to deactivate SOL before it is killed (default 3 s). */
  stopGraceMs?: number;
  /** Console output held while nobody reads before ipmitool's output is paused (default 64 KiB). */
  readQueueBytes?: number;
}

/** One open(): spans the ipmitool restarts a BREAK may need. */
interface Session {
  readonly secret: IpmiSecret;
  readonly queue: ChunkQueue;
  sol: SolProcess | undefined;
  encoder: SolInputEncoder;
  filter: SolOutputFilter;
  /** Writes and breaks, one after another: ipmitool's escape state depends on their order. */
  input: Promise<void>;
  /** Set once closed or lost: what every later read, write and break rejects with. */
  ended: LifelineError | undefined;
  paused: boolean;
  /** Checks that the current activation still holds SOL. */
  watch: SolWatch | undefined;
  /** A fresh ipmitool is being started for a break. */
  switching: Promise<void> | undefined;
}

/**
 * A server's serial console through its BMC: IPMI 2.0 Serial-over-LAN, carried by
 * `ipmitool -I lanplus ... sol activate` on pipes (docs/ipmi.md).
 *
 * - open() first runs `sol deactivate`, clearing a session an earlier agent left active (else the
 *   BMC answers "SOL payload already active on another session"), then activates SOL.
 * - Bytes to the console pass through SolInputEncoder, so ipmitool's `~` escapes can never be
 *   triggered by data; output is ipmitool's stdout minus its own banner and break notices.
 * - setBreak(true) sends ipmitool's `~B`, which works only at line start in ipmitool's eyes. When
 *   the last byte sent was not CR or LF, the port ends that ipmitool (it deactivates SOL) and
 *   starts a fresh one, which begins at line start: no byte is added to the console, at the cost
 *   of output the BMC drops during that second. setBreak(false) does nothing.
 * - The BMC ending SOL (another client took it over, BMC reset, network gone) ends ipmitool or is
 *   seen by a periodic check of who holds SOL; a pending read then rejects CONSOLE_DISCONNECTED.
 */
export class IpmiSolConsolePort implements ConsolePort {
  readonly description: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly env: NodeJS.ProcessEnv;
  private readonly openTimeoutMs: number;
  private readonly watchIntervalMs: number;
  private readonly maxWatchFailures: number;
  private readonly stopGraceMs: number;
  private readonly readQueueBytes: number;
  private session: Session | undefined;
  /** The session that ended last, so reads and writes after a loss say DISCONNECTED, not CANCELED. */
  private previous: Session | undefined;
  private opening: { aborted: boolean; done: Promise<unknown> } | undefined;
  /** An ipmitool still on its way out: the next open waits for it. */
  private stopping: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: IpmiSolConsoleConfig,
    private readonly deps: IpmiSolConsolePortDeps,
  ) {
    this.description = `SOL console of BMC ${bmcAddress(config)}`;
    this.logger = deps.logger.child({ component: 'ipmi-sol-console', bmc: bmcAddress(config) });
    this.clock = deps.clock ?? systemClock;
    this.env = deps.env ?? process.env;
    this.openTimeoutMs = deps.openTimeoutMs ?? 20_000;
    this.watchIntervalMs = deps.watchIntervalMs ?? 15_000;
    this.maxWatchFailures = deps.watchFailures ?? 2;
    this.stopGraceMs = deps.stopGraceMs ?? 3_000;
    this.readQueueBytes = deps.readQueueBytes ?? 64 * 1024;
  }

  get isOpen(): boolean {
    return this.session !== undefined;
  }

  async open(): Promise<void> {
    if (this.session || this.opening) throw new Error(`${this.description} is already open`);
    const opening = { aborted: false, done: Promise.resolve() as Promise<unknown> };
    this.opening = opening;
    const done = this.openSession(opening);
    opening.done = done.catch(() => undefined);
    try {
      await done;
    } finally {
      this.opening = undefined;
    }
  }

  read(): Promise<Buffer> {
    const session = this.session ?? this.previous;
    if (!session) return Promise.reject(this.canceled());
    return session.queue.next();
  }

  write(data: Buffer): Promise<void> {
    const session = this.session;
    if (!session) return Promise.reject(this.previous?.ended ?? this.canceled());
    return this.enqueue(session, async () => {
      if (data.length === 0) return;
      this.logger.trace({ bytes: data.length }, 'write');
      await this.send(session, session.encoder.encode(data), 'CONSOLE_WRITE_FAILED');
    });
  }

  async setBreak(on: boolean): Promise<void> {
    const session = this.session;
    if (!session) throw this.previous?.ended ?? this.canceled();
    if (session.ended) throw session.ended;
    if (!on) return;
    await this.enqueue(session, async () => {
      if (!session.encoder.atLineStart) {
        this.logger.debug('break after a byte other than CR/LF: starting a fresh ipmitool, which is at line start');
        await this.freshSol(session);
      }
      const sequence = session.encoder.breakSequence()!;
      session.filter.expectBreakNotice();
      await this.send(session, sequence, 'CONSOLE_BREAK_FAILED');
      this.logger.debug('break sent');
    });
  }

  async close(): Promise<void> {
    if (this.opening) {
      this.opening.aborted = true;
      await this.opening.done;
    }
    const session = this.session;
    if (session) {
      this.end(session, this.canceled(), { discard: true });
      await session.switching?.catch(() => undefined);
      await Promise.all([session.sol?.stop(this.stopGraceMs), session.watch?.stop()]);
      this.logger.info('SOL session closed');
    }
    await this.stopping;
  }

  private async openSession(opening: { aborted: boolean }): Promise<void> {
    await this.stopping;
    const secret = await loadIpmiSecret(this.config, this.env, 'CONSOLE_OPEN_FAILED');
    const check = () => {
      if (opening.aborted) throw this.canceled();
    };
    check();
    await this.clearStale(secret);
    check();
    const session: Session = {
      secret,
      queue: new ChunkQueue(this.readQueueBytes),
      sol: undefined,
      encoder: new SolInputEncoder(),
      filter: new SolOutputFilter(),
      input: Promise.resolve(),
      ended: undefined,
      paused: false,
      watch: undefined,
      switching: undefined,
    };
    const sol = await this.startSol(session);
    if (opening.aborted) {
      await sol.stop(this.stopGraceMs);
      throw this.canceled();
    }
    this.session = session;
    this.attach(session, sol);
    this.logger.info({ cipherSuite: this.config.cipherSuite, privilege: this.config.privilege }, 'SOL session active');
  }

  private clearStale(secret: IpmiSecret): Promise<void> {
    return deactivateStaleSol(this.config, secret, { ...this.ipmitoolOptions(), timeoutMs: this.openTimeoutMs, clock: this.clock, logger: this.logger });
  }

  private async startSol(session: Session): Promise<SolProcess> {
    const command = ipmitoolCommand(this.config, session.secret, ['sol', 'activate'], { ...this.ipmitoolOptions(), verbose: true, lineBuffered: true });
    try {
      return await SolProcess.start({ command, target: this.config, timeoutMs: this.openTimeoutMs, clock: this.clock });
    } catch (err) {
      if (err instanceof SolStartError) throw consoleOpenError(err.failure, err);
      throw err;
    }
  }

  private attach(session: Session, sol: SolProcess): void {
    session.sol = sol;
    session.paused = false;
    sol.attach({
      onData: (chunk) => this.deliver(session, session.filter.push(chunk)),
      onExit: (exit) => this.solExited(session, sol, exit),
    });
    if (this.watchIntervalMs <= 0) return;
    session.watch = new SolWatch({
      config: this.config,
      secret: session.secret,
      ipmitool: this.ipmitoolOptions(),
      intervalMs: this.watchIntervalMs,
      maxFailures: this.maxWatchFailures,
      clock: this.clock,
      logger: this.logger,
      onLost: (reason, takenOver) => {
        if (session.sol !== sol || session.switching) return;
        // Killed, not stopped: a clean exit would deactivate SOL under its new holder.
        if (takenOver) void sol.kill();
        this.lose(session, reason);
      },
    }).start();
  }

  private deliver(session: Session, chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.logger.trace({ bytes: chunk.length }, 'read');
    session.queue.push(chunk);
    if (session.paused || session.queue.hasRoom || !session.sol) return;
    session.paused = true;
    const sol = session.sol;
    sol.pauseOutput();
    session.queue.room().then(
      () => {
        session.paused = false;
        sol.resumeOutput();
      },
      () => undefined,
    );
  }

  private solExited(session: Session, sol: SolProcess, exit: SolExit): void {
    this.deliver(session, session.filter.flush());
    if (session.sol !== sol || session.ended || session.switching) return;
    const failure = diagnoseIpmitool(exit, this.config);
    const said = failure.kind === 'other' ? '' : ` (${failure.message})`;
    this.lose(session, `the BMC ended the SOL session${exit.code === 0 ? '' : said}`, exit);
  }

  /**
   * Ends the current ipmitool (it deactivates SOL) and starts another, which begins at line
   * start. The pending read carries on; writes wait in `input` meanwhile.
   */
  private freshSol(session: Session): Promise<void> {
    const run = async () => {
      const [exit] = await Promise.all([session.sol!.stop(this.stopGraceMs), session.watch?.stop()]);
      if (session.ended) throw session.ended;
      if (exit.code !== 0) await this.clearStale(session.secret).catch(() => undefined);
      let sol: SolProcess;
      try {
        sol = await this.startSol(session);
      } catch (err) {
        this.lose(session, (err as Error).message, err);
        throw session.ended ?? err;
      }
      if (session.ended) {
        await sol.stop(this.stopGraceMs);
        throw session.ended;
      }
      session.encoder = new SolInputEncoder();
      session.filter = new SolOutputFilter();
      this.attach(session, sol);
    };
    const switching = run().finally(() => (session.switching = undefined));
    session.switching = switching;
    return switching;
  }

  /** Writes to the current ipmitool; a failure there is the session's end if it ended, else `code`. */
  private async send(session: Session, bytes: Buffer, code: 'CONSOLE_WRITE_FAILED' | 'CONSOLE_BREAK_FAILED'): Promise<void> {
    const sol = session.sol!;
    try {
      await sol.write(bytes);
    } catch (err) {
      if (sol.hasExited) await sol.whenExited();
      throw session.ended ?? new LifelineError(code, `${this.description}: ${(err as Error).message}`, { cause: err });
    }
  }

  private enqueue(session: Session, job: () => Promise<void>): Promise<void> {
    const run = session.input.then(() => {
      if (session.ended) throw session.ended;
      return job();
    });
    session.input = run.catch(() => undefined);
    return run;
  }

  /** SOL went away: output read before the loss is still delivered, then CONSOLE_DISCONNECTED. */
  private lose(session: Session, reason: string, cause?: unknown): void {
    if (session.ended) return;
    const message = `${this.description}: ${reason}`;
    this.logger.warn({ err: cause }, message);
    this.end(session, new LifelineError('CONSOLE_DISCONNECTED', message, { cause }), {});
    this.stopping = Promise.all([this.stopping, session.sol?.stop(this.stopGraceMs), session.watch?.stop()]);
  }

  private end(session: Session, reason: LifelineError, options: { discard?: boolean }): void {
    session.ended = reason;
    void session.watch?.stop();
    session.queue.end(reason, options);
    if (this.session === session) this.session = undefined;
    this.previous = session;
  }

  private ipmitoolOptions() {
    return { env: this.env, ipmitool: this.deps.ipmitool };
  }

  private canceled(): LifelineError {
    return new LifelineError('CONSOLE_CANCELED', `${this.description} is closed`);
  }
}
