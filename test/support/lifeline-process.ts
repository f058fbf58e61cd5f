import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const relayBin = `${root}packages/relay/bin/lifeline-relay.js`;
export const agentBin = `${root}packages/edge-agent/bin/lifeline-agent.js`;

/**
 * The Node.js that runs agents: Node.js 20 under `npm test` (test/vitest.config.ts decides and
 * says so in LIFELINE_AGENT_NODE), as on a Raspberry Pi, while relays run on the test's own Node.js
 * (24). Elsewhere (the benchmark), the current Node.js.
 */
export const agentNode = process.env.LIFELINE_AGENT_NODE || process.execPath;

/** The Node.js binary that runs `bin`. */
export const nodeFor = (bin: string): string => (bin === agentBin ? agentNode : process.execPath);

export type LogLine = Record<string, unknown> & { event?: string; msg?: string; level?: number };

/**
 * A relay or agent running as its own process, as in production. Collects its JSON log lines so
 * tests can wait for events instead of sleeping.
 */
export class LifelineProcess {
  readonly logs: LogLine[] = [];
  /** Log lines that name a field twice (a child logger given a component its module names again): should stay empty. */
  readonly repeatedFields: string[] = [];
  stderr = '';
  private readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;

  constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
          // pino appends a child logger's fields as text: a component named twice shows up here.
          if ((line.match(/"component":/g)?.length ?? 0) > 1) this.repeatedFields.push(line);
        } catch {
          this.logs.push({ msg: line });
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  /** `options.node` overrides the Node.js binary nodeFor(bin) picks (e.g. a copy another user may run). */
  static start(
    bin: string,
    args: string[],
    options: { prefix?: string[]; env?: NodeJS.ProcessEnv; node?: string; nodeArgs?: string[] } = {},
  ): LifelineProcess {
    const node = options.node ?? nodeFor(bin);
    const [command, ...prefixArgs] = options.prefix ?? [node];
    const child = spawn(command!, [...prefixArgs, ...(options.prefix ? [node] : []), ...(options.nodeArgs ?? []), bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      // Its own process group, so stop() reaches the program under a prefix (strace) too.
      detached: true,
    });
    return new LifelineProcess(child);
  }

  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    return waitFor(
      () => `${what} (stderr: ${this.stderr.slice(-500)})`,
      () => this.logs.find(match),
      timeoutMs,
    );
  }

  waitForExit(timeoutMs = 10_000): Promise<number | null> {
    return Promise.race([
      this.exited,
      new Promise<number | null>((_, reject) =>
        setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.signalGroup(signal);
    try {
      await this.waitForExit(5_000);
    } catch {
      this.signalGroup('SIGKILL');
      await this.exited;
    }
  }

  /** Signals the whole process group: the program and anything it runs under (strace). */
  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      this.child.kill(signal);
    }
  }
}
