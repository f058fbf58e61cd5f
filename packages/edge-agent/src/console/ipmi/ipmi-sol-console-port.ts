import { LifelineError, systemClock, type Clock, type IpmiSolConsoleConfig, type Logger } from '@lifeline/shared/core';
import type { ConsolePort } from '../console-port.js';
import { PortSessions, type PausableSource, type PortSession } from '../port-session.js';
import { loadIpmiSecret, type IpmiSecret } from './ipmi-password.js';
import { bmcAddress, ipmitoolCommand, type IpmiDeps } from './ipmitool-command.js';
import { consoleOpenError, diagnoseIpmitool } from './ipmitool-diagnosis.js';
import { deactivateStaleSol } from './sol-deactivate.js';
import { SolInputEncoder, SolOutputFilter } from './sol-escape.js';
import { SolProcess, SolStartError, type SolExit } from './sol-process.js';
import { SolWatch } from './sol-watch.js';

export interface IpmiSolConsolePortDeps extends IpmiDeps {
  /** How long open() waits for the BMC to start SOL; SOL_TIMING.openMs unless a test says otherwise. */
  openTimeoutMs?: number;
  /** How often the agent asks the BMC whether SOL is still this session's (0: never); SOL_TIMING.watchMs unless a test says otherwise. */
  watchIntervalMs?: number;
  /** Checks without an answer in a row before the console counts as lost; SOL_TIMING.watchFailures unless a test says otherwise. */
  watchFailures?: number;
  /** How long a closing ipmitool may take to deactivate SOL before it is killed; SOL_TIMING.stopGraceMs unless a test says otherwise. */
  stopGraceMs?: number;
  /** Console output held while nobody reads before ipmitool's output is paused (default 64 KiB). */
  readQueueBytes?: number;
}

/** What one open() holds: it spans the ipmitool restarts a BREAK may need. */
interface Sol {
  readonly secret: IpmiSecret;
  /** The ipmitool carrying SOL now, and its output as a source the session can pause. */
  sol: SolProcess;
  output: PausableSource;
  encoder: SolInputEncoder;
  filter: SolOutputFilter;
  /** Checks that the current activation still holds SOL. */
  watch: SolWatch | undefined;
  /** A fresh ipmitool is being started for a break. */
  switching: Promise<void> | undefined;
}

type Session = PortSession<Sol>;

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
/**
 * Timing of a SOL console. Not configurable: they follow the BMCs, not the site. Some BMCs take
 * seconds to start SOL (20 s to open); a watch every 15 s, 2 unanswered in a row, finds a session
 * another client took over within about 30 s without loading the BMC; 3 s lets ipmitool deactivate
 * SOL cleanly before it is killed; 10 tries of a SOL data packet (about 10 s) ride out a busy BMC
 * without dropping keystrokes.
 */
export const SOL_TIMING = { openMs: 20_000, watchMs: 15_000, watchFailures: 2, stopGraceMs: 3_000, dataRetries: 10 } as const;

export class IpmiSolConsolePort implements ConsolePort {
  readonly description: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly env: NodeJS.ProcessEnv;
  private readonly openTimeoutMs: number;
  private readonly watchIntervalMs: number;
  private readonly maxWatchFailures: number;
  private readonly stopGraceMs: number;
  private readonly sessions: PortSessions<Sol>;

  constructor(
    private readonly config: IpmiSolConsoleConfig,
    private readonly deps: IpmiSolConsolePortDeps,
  ) {
    this.description = `SOL console of BMC ${bmcAddress(config)}`;
    this.logger = deps.logger.child({ component: 'ipmi-sol-console', bmc: bmcAddress(config) });
    this.clock = deps.clock ?? systemClock;
    this.env = deps.env ?? process.env;
    this.openTimeoutMs = deps.openTimeoutMs ?? SOL_TIMING.openMs;
    this.watchIntervalMs = deps.watchIntervalMs ?? SOL_TIMING.watchMs;
    this.maxWatchFailures = deps.watchFailures ?? SOL_TIMING.watchFailures;
    this.stopGraceMs = deps.stopGraceMs ?? SOL_TIMING.stopGraceMs;
    this.sessions = new PortSessions({
      description: this.description,
      logger: this.logger,
      ...(deps.readQueueBytes ? { readQueueBytes: deps.readQueueBytes } : {}),
      release: (session, how) => this.release(session, how),
    });
  }

  get isOpen(): boolean {
    return this.sessions.isOpen;
  }

  open(): Promise<void> {
    return this.sessions.open(async (opening) => {
      const secret = await loadIpmiSecret(this.config, this.env, 'CONSOLE_OPEN_FAILED');
      opening.check();
      await this.clearStale(secret);
      opening.check();
      const sol = await this.startSol(secret);
      const session = opening.begin({
        secret,
        sol,
        output: outputOf(sol),
        encoder: new SolInputEncoder(),
        filter: new SolOutputFilter(),
        watch: undefined,
        switching: undefined,
      });
      this.attach(session);
      this.logger.info({ cipherSuite: this.config.cipherSuite, privilege: this.config.privilege }, 'SOL session active');
    });
  }

  read(): Promise<Buffer> {
    return this.sessions.read();
  }

  async write(data: Buffer): Promise<void> {
    const session = this.sessions.active();
    // Writes and breaks, one after another: ipmitool's escape state depends on their order.
    return session.serialize(async () => {
      if (data.length === 0) return;
      this.logger.trace({ bytes: data.length }, 'write');
      await this.send(session, session.resource.encoder.encode(data), 'CONSOLE_WRITE_FAILED');
    });
  }

  async setBreak(on: boolean): Promise<void> {
    const session = this.sessions.active();
    if (!on) return;
    await session.serialize(async () => {
      const sol = session.resource;
      if (!sol.encoder.atLineStart) {
        this.logger.debug('break after a byte other than CR/LF: starting a fresh ipmitool, which is at line start');
        await this.freshSol(session);
      }
      const sequence = sol.encoder.breakSequence()!;
      sol.filter.expectBreakNotice();
      await this.send(session, sequence, 'CONSOLE_BREAK_FAILED');
      this.logger.debug('break sent');
    });
  }

  close(): Promise<void> {
    return this.sessions.close();
  }

  /**
   * Ends ipmitool (deactivating SOL) and the watch. On a loss the process is stopped all the
   * same; the next open waits for it.
   */
  private async release(session: Session, how: 'closed' | 'lost'): Promise<void> {
    const sol = session.resource;
    const watchStopped = sol.watch?.stop();
    if (how === 'closed') await sol.switching?.catch(() => undefined);
    await Promise.all([sol.sol.stop(this.stopGraceMs), watchStopped, sol.watch?.stop()]);
    if (how === 'closed') this.logger.info('SOL session closed');
  }

  private clearStale(secret: IpmiSecret): Promise<void> {
    return deactivateStaleSol(this.config, secret, {
      ...this.ipmitoolOptions(),
      timeoutMs: this.openTimeoutMs,
      clock: this.clock,
      logger: this.logger,
    });
  }

  private async startSol(secret: IpmiSecret): Promise<SolProcess> {
    const command = ipmitoolCommand(this.config, secret, ['sol', 'activate'], {
      ...this.ipmitoolOptions(),
      // SOL data waits for the BMC's acknowledgement packet by packet: with the command patience
      // (3 tries) a BMC busy for 3 s drops what the person typed. The watch (SOL_TIMING) finds a
      // dead BMC; the session itself never gives keystrokes up that early.
      retries: SOL_TIMING.dataRetries,
      verbose: true,
      lineBuffered: true,
    });
    try {
      return await SolProcess.start({ command, target: this.config, timeoutMs: this.openTimeoutMs, clock: this.clock });
    } catch (err) {
      if (err instanceof SolStartError) throw consoleOpenError(err.failure, err);
      throw err;
    }
  }

  /** Starts reading the current ipmitool and, when configured, the watch over its activation. */
  private attach(session: Session): void {
    const current = session.resource;
    const { sol } = current;
    sol.attach({
      onData: (chunk) => this.deliver(session, current.filter.push(chunk)),
      onExit: (exit) => this.solExited(session, sol, exit),
    });
    if (this.watchIntervalMs <= 0) return;
    current.watch = new SolWatch({
      config: this.config,
      secret: current.secret,
      ipmitool: this.ipmitoolOptions(),
      intervalMs: this.watchIntervalMs,
      maxFailures: this.maxWatchFailures,
      clock: this.clock,
      logger: this.logger,
      onLost: (reason, takenOver) => {
        if (current.sol !== sol || current.switching) return;
        // Killed, not stopped: a clean exit would deactivate SOL under its new holder.
        if (takenOver) void sol.kill();
        this.lose(session, reason);
      },
    }).start();
  }

  private deliver(session: Session, chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.logger.trace({ bytes: chunk.length }, 'read');
    session.deliver(chunk, session.resource.output);
  }

  private solExited(session: Session, sol: SolProcess, exit: SolExit): void {
    const current = session.resource;
    this.deliver(session, current.filter.flush());
    if (current.sol !== sol || session.endedWith || current.switching) return;
    const failure = diagnoseIpmitool(exit, this.config);
    const said = failure.kind === 'other' ? '' : ` (${failure.message})`;
    this.lose(session, `the BMC ended the SOL session${exit.code === 0 ? '' : said}`, exit);
  }

  /**
   * Ends the current ipmitool (it deactivates SOL) and starts another, which begins at line
   * start. The pending read carries on; writes wait in the session's queue of jobs meanwhile.
   */
  private freshSol(session: Session): Promise<void> {
    const current = session.resource;
    const run = async () => {
      const [exit] = await Promise.all([current.sol.stop(this.stopGraceMs), current.watch?.stop()]);
      if (session.endedWith) throw session.endedWith;
      if (exit.code !== 0) await this.clearStale(current.secret).catch(() => undefined);
      let sol: SolProcess;
      try {
        sol = await this.startSol(current.secret);
      } catch (err) {
        this.lose(session, (err as Error).message, err);
        throw session.endedWith ?? err;
      }
      // Read again: the session may have ended while ipmitool started (TypeScript keeps the
      // narrowing from the check before the await, hence the widening).
      const ended = session.endedWith as LifelineError | undefined;
      if (ended) {
        await sol.stop(this.stopGraceMs);
        throw ended;
      }
      current.sol = sol;
      current.output = outputOf(sol);
      current.encoder = new SolInputEncoder();
      current.filter = new SolOutputFilter();
      this.attach(session);
    };
    const switching = run().finally(() => (current.switching = undefined));
    current.switching = switching;
    return switching;
  }

  /** Writes to the current ipmitool; a failure there is the session's end if it ended, else `code`. */
  private async send(session: Session, bytes: Buffer, code: 'CONSOLE_WRITE_FAILED' | 'CONSOLE_BREAK_FAILED'): Promise<void> {
    const { sol } = session.resource;
    try {
      await sol.write(bytes);
    } catch (err) {
      if (sol.hasExited) await sol.whenExited();
      throw session.endedWith ?? new LifelineError(code, `${this.description}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** SOL went away: output read before the loss is still delivered, then CONSOLE_DISCONNECTED. */
  private lose(session: Session, reason: string, cause?: unknown): void {
    this.sessions.lose(session, `${this.description}: ${reason}`, cause);
  }

  private ipmitoolOptions() {
    return { env: this.env, ipmitool: this.deps.ipmitool };
  }
}

/** ipmitool's output as a source the session pauses while its queue is full. */
function outputOf(sol: SolProcess): PausableSource {
  return { pause: () => sol.pauseOutput(), resume: () => sol.resumeOutput() };
}
