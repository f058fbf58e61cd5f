import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { printable, type Clock, type IpmiSolConsoleConfig } from '@lifeline/shared/core';
import type { IpmitoolCommand } from './ipmitool-command.js';
import { diagnoseIpmitool, type IpmiFailure } from './ipmitool-diagnosis.js';
import { killGroup } from './run-ipmitool.js';

/** How an `ipmitool sol activate` ended. */
export interface SolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of its stderr, for the diagnosis. */
  stderr: string;
}

export interface SolProcessOptions {
  /** `sol activate`, line-buffered (see ipmitoolCommand). */
  command: IpmitoolCommand;
  target: Pick<IpmiSolConsoleConfig, 'host' | 'port' | 'user' | 'cipherSuite' | 'privilege'>;
  /** How long to wait for ipmitool's "SOL Session operational" line. */
  timeoutMs: number;
  clock: Clock;
}

/** Where a running session's output and end go (see SolProcess.attach). */
export interface SolHandlers {
  /** Console output: ipmitool's stdout after its banner line. */
  onData: (chunk: Buffer) => void;
  /** ipmitool ended. Called once, after the last onData. */
  onExit: (exit: SolExit) => void;
}

/** Thrown by SolProcess.start(): why there is no SOL session. */
export class SolStartError extends Error {
  constructor(readonly failure: IpmiFailure) {
    super(failure.message);
  }
}

type IpmitoolChild = ChildProcessByStdio<Writable, Readable, Readable>;

const banner = '[SOL Session operational';
const maxBannerBytes = 1024;
const maxStderrChars = 8 * 1024;

/**
 * One `ipmitool sol activate` child: the SOL session itself. Pipes are enough (ipmitool 1.8
 * only warns that stdin is not a terminal and works byte for byte); stdbuf makes its stdout
 * line-buffered so its banner, the sign the session is up, arrives at once. Runs in a process
 * group of its own so stop() can end it for sure.
 */
export class SolProcess {
  private exitInfo: SolExit | undefined;
  private handlers: SolHandlers | undefined;
  private readonly exited: Promise<SolExit>;

  private constructor(
    private readonly child: IpmitoolChild,
    exited: Promise<SolExit>,
    /** Output that came with the banner, held (stdout paused) until attach(). */
    private early: Buffer,
    private readonly clock: Clock,
  ) {
    this.exited = exited.then((info) => {
      this.exitInfo = info;
      this.handlers?.onExit(info);
      return info;
    });
    // Writes after ipmitool died fail with EPIPE; write() reports that, the event is not news.
    child.stdin.on('error', () => undefined);
  }

  /**
   * Spawns ipmitool and resolves once the BMC has activated SOL, with output paused until
   * attach(). Rejects with SolStartError (ipmitool is then gone or being killed).
   */
  static start(options: SolProcessOptions): Promise<SolProcess> {
    const { command, clock } = options;
    const child = spawn(command.file, command.args, { env: command.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.setEncoding('latin1').on('data', (d: string) => (stderr = (stderr + d).slice(-maxStderrChars)));
    let spawnError: NodeJS.ErrnoException | undefined;
    const exited = new Promise<SolExit>((resolve) => {
      let fallback: { cancel(): void } | undefined;
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        fallback?.cancel();
        resolve({ code, signal, stderr });
      };
      child.once('close', done);
      // 'close' waits for stdout to end; if it is paused (nobody reads the console), do not wait for ever.
      child.once('exit', (code, signal) => (fallback = clock.setTimeout(() => done(code, signal), 500)));
      child.once('error', (err: NodeJS.ErrnoException) => {
        spawnError = err;
        done(null, null);
      });
    });

    return new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      let settled = false;
      const fail = (failure: IpmiFailure) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        killGroup(child.pid, 'SIGKILL');
        reject(new SolStartError(failure));
      };
      const timer = clock.setTimeout(
        () =>
          fail({
            kind: 'unreachable',
            message: `BMC ${options.target.host}:${options.target.port} did not start a SOL session within ${options.timeoutMs} ms`,
          }),
        options.timeoutMs,
      );
      const onHead = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const eol = head.indexOf(0x0a);
        if (eol < 0) {
          if (head.length > maxBannerBytes) fail({ kind: 'other', message: `unexpected output from ipmitool: ${printable(head)}` });
          return;
        }
        if (!head.subarray(0, eol).toString('latin1').startsWith(banner)) {
          fail({ kind: 'other', message: `unexpected output from ipmitool instead of its SOL banner: ${printable(head)}` });
          return;
        }
        settled = true;
        timer.cancel();
        child.stdout.off('data', onHead);
        child.stdout.pause();
        resolve(new SolProcess(child, exited, Buffer.from(head.subarray(eol + 1)), clock));
      };
      child.stdout.on('data', onHead);
      void exited.then((exit) => fail(diagnoseIpmitool({ stderr: exit.stderr, spawnError }, options.target)));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Resolves once ipmitool has ended and its handlers have run. */
  whenExited(): Promise<SolExit> {
    return this.exited;
  }

  /** Starts delivering output (what came with the banner first) and the end. Once only. */
  attach(handlers: SolHandlers): void {
    if (this.handlers) throw new Error('SolProcess already attached');
    this.handlers = handlers;
    const early = this.early;
    this.early = Buffer.alloc(0);
    if (early.length) handlers.onData(early);
    this.child.stdout.on('data', handlers.onData);
    this.child.stdout.resume();
    if (this.exitInfo) handlers.onExit(this.exitInfo);
  }

  /** Resolves once ipmitool has taken `data` into its stdin pipe; rejects if it is gone. */
  async write(data: Buffer): Promise<void> {
    if (this.exitInfo) throw new Error('ipmitool has exited');
    if (data.length === 0) return;
    if (this.child.stdin.write(data)) return;
    const drained = new Promise<void>((resolve) => this.child.stdin.once('drain', resolve));
    const gone = this.exited.then(() => {
      throw new Error('ipmitool exited before taking the data');
    });
    await Promise.race([drained, gone]);
  }

  /** Stops reading console output (the reader is behind); ipmitool then stops taking SOL data. */
  pauseOutput(): void {
    this.child.stdout.pause();
  }

  resumeOutput(): void {
    if (this.handlers) this.child.stdout.resume();
  }

  /**
   * Ends the session: closing stdin makes ipmitool deactivate SOL and exit cleanly; one that is
   * still there after `graceMs` (its BMC is gone) is killed with its group.
   */
  async stop(graceMs: number): Promise<SolExit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.stdin.end();
    // Drained, so ipmitool sees the end of its input even when nobody reads the console.
    this.child.stdout.resume();
    const term = this.clock.setTimeout(() => killGroup(this.child.pid, 'SIGTERM'), graceMs);
    const kill = this.clock.setTimeout(() => killGroup(this.child.pid, 'SIGKILL'), graceMs + 1_000);
    const exit = await this.exited;
    term.cancel();
    kill.cancel();
    return exit;
  }

  /** Kills it at once (it may leave SOL active on the BMC: the next open clears that). */
  kill(): Promise<SolExit> {
    killGroup(this.child.pid, 'SIGKILL');
    return this.exited;
  }
}
