import { spawn } from 'node:child_process';
import { systemClock, type Clock, type Logger, type TimerHandle } from '@lifeline/shared/core';
import type { IndicatorState } from './status-indicator.js';

/** A started hook process, as StatusHook needs it (the real one is /bin/sh -c in its own process group). */
export interface HookProcess {
  /** Resolves once the process has exited and its output is closed; never rejects (a spawn failure is `error`). */
  readonly done: Promise<{ code: number | null; signal: string | null; error?: Error }>;
  /** Called with each chunk of stdout or stderr. */
  onOutput(listener: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): void;
  /** Kills the process and whatever it started (SIGKILL to its process group). */
  kill(): void;
}

/** Starts `command` with `env`; never throws (a failure to start comes out of `done`). */
export type SpawnHook = (command: string, env: NodeJS.ProcessEnv) => HookProcess;

export interface StatusHookOptions {
  /** Shell command line, run with /bin/sh -c. */
  command: string;
  deviceId: string;
  logger: Logger;
  /** Killed after this long; HOOK_TIMEOUT_MS unless a test shortens it. */
  timeoutMs?: number;
  /** Where the hook's PATH and LANG come from (nothing else of it is passed on); the agent's own environment by default. */
  baseEnv?: NodeJS.ProcessEnv;
  spawn?: SpawnHook;
  clock?: Clock;
}

/** Output kept per stream of one run for the debug log; a chatty hook cannot fill memory. */
/**
 * A status hook still running after this long is killed (status.hook's description says so). Not
 * configurable: a hook runs at every state change, one at a time, so one that hangs must not hold
 * back the next; a hook with longer work should start it in the background.
 */
export const HOOK_TIMEOUT_MS = 10_000;

const maxOutputBytes = 4096;

/**
 * Runs the configured status hook on state changes, never more than one at a time: changes that
 * come while a hook runs are coalesced into one more run with the latest state, skipped when that
 * is what the finished run already told. A hook that runs too long is killed; failures are logged
 * and never reach the agent.
 */
export class StatusHook {
  private running: Promise<void> | undefined;
  private pending: { state: IndicatorState; reason: string } | undefined;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly spawnHook: SpawnHook;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly options: StatusHookOptions) {
    this.timeoutMs = options.timeoutMs ?? HOOK_TIMEOUT_MS;
    this.spawnHook = options.spawn ?? spawnShell;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'status-hook' });
  }

  /** Runs the hook for this state now, or once the running one has ended. */
  notify(state: IndicatorState, reason = ''): void {
    if (this.closed) return;
    this.pending = { state, reason };
    if (!this.running) this.running = this.drain();
  }

  /** Runs no more hooks; resolves when the running one (if any) has ended, at most after its timeout. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending = undefined;
    await this.running;
  }

  private async drain(): Promise<void> {
    let last: { state: IndicatorState; reason: string } | undefined;
    while (this.pending) {
      const next = this.pending;
      this.pending = undefined;
      if (last && last.state === next.state && last.reason === next.reason) continue;
      try {
        await this.runOnce(next.state, next.reason);
      } catch (err) {
        // Only a broken spawn gets here; the agent must not die of its hook.
        this.logger.warn({ event: 'status.hook_failed', state: next.state, err }, 'status hook could not be started');
      }
      last = next;
    }
    this.running = undefined;
  }

  private async runOnce(state: IndicatorState, reason: string): Promise<void> {
    const env = hookEnvironment(this.options.baseEnv ?? process.env, {
      LIFELINE_STATE: state,
      LIFELINE_REASON: reason,
      LIFELINE_DEVICE: this.options.deviceId,
    });
    const startedAt = this.clock.now();
    const child = this.spawnHook(this.options.command, env);
    const output = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const kept = { stdout: 0, stderr: 0 };
    child.onOutput((stream, chunk) => {
      if (kept[stream] >= maxOutputBytes) return;
      const part = chunk.subarray(0, maxOutputBytes - kept[stream]);
      output[stream].push(part);
      kept[stream] += part.length;
    });
    let timedOut = false;
    const timer: TimerHandle = this.clock.setTimeout(() => {
      timedOut = true;
      child.kill();
    }, this.timeoutMs);
    const result = await child.done;
    timer.cancel();
    const stdout = Buffer.concat(output.stdout).toString('utf8');
    const stderr = Buffer.concat(output.stderr).toString('utf8');
    const ms = this.clock.now() - startedAt;
    if (stdout || stderr) this.logger.debug({ event: 'status.hook_output', state, stdout, stderr }, 'status hook output');
    if (result.error) {
      this.logger.warn({ event: 'status.hook_failed', state, err: result.error }, 'status hook could not be started');
    } else if (timedOut) {
      this.logger.warn(
        { event: 'status.hook_timeout', state, ms, timeoutMs: this.timeoutMs },
        `status hook killed after ${this.timeoutMs} ms`,
      );
    } else if (result.code !== 0) {
      this.logger.warn(
        { event: 'status.hook_failed', state, ms, code: result.code, signal: result.signal },
        'status hook failed (its output is logged at debug)',
      );
    } else {
      this.logger.debug({ event: 'status.hook_done', state, ms }, 'status hook ran');
    }
  }
}

/** What a hook may see of the agent's environment: where programs are and the language, no secrets. */
const passedOn = ['PATH', 'LANG'] as const;

/**
 * A clean environment for a hook: PATH and LANG from `base` (when set) and the hook's own
 * variables, nothing else. The agent's environment may hold secrets (LIFELINE_IPMI_PASSWORD,
 * credentials systemd passes in) that a site script has no business seeing.
 */
function hookEnvironment(base: NodeJS.ProcessEnv, variables: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of passedOn) if (base[name] !== undefined) env[name] = base[name];
  return { ...env, ...variables };
}

/** `/bin/sh -c command` in a process group of its own, so a timeout also kills what the script started. */
export const spawnShell: SpawnHook = (command, env) => {
  const child = spawn('/bin/sh', ['-c', command], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const listeners: Array<(stream: 'stdout' | 'stderr', chunk: Buffer) => void> = [];
  child.stdout.on('data', (chunk: Buffer) => listeners.forEach((l) => l('stdout', chunk)));
  child.stderr.on('data', (chunk: Buffer) => listeners.forEach((l) => l('stderr', chunk)));
  const done = new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    done,
    onOutput: (listener) => void listeners.push(listener),
    kill() {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      // Something that left the group may still hold the pipes; 'close' must not wait for it.
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
};
