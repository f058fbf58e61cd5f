import { fork, type ChildProcess } from 'node:child_process';
import { ForksPoolWorker, type PoolOptions, type PoolWorker } from 'vitest/node';

/** What vitest 4 takes as a custom `pool` (its own type is not exported). */
export interface NodePool {
  readonly name: string;
  createPoolWorker(options: PoolOptions): PoolWorker;
}

/**
 * A vitest pool that runs test files in child processes of the given Node.js binary, whatever
 * Node.js runs vitest itself: the same as vitest's `forks` pool (same worker entry point, same
 * messages) but forked with `execPath`. This is how one `vitest run` tests the edge agent on
 * Node.js 20 and everything on Node.js 24, with one set of reporters and one summary line.
 */
export function nodePool(name: string, execPath: string): NodePool {
  return { name, createPoolWorker: (options) => new NodeForksWorker(name, execPath, options) };
}

class NodeForksWorker extends ForksPoolWorker implements PoolWorker {
  override readonly name: string;
  private child: ChildProcess | undefined;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;

  constructor(
    name: string,
    private readonly execPath: string,
    options: PoolOptions,
  ) {
    super(options);
    this.name = name;
    this.out = options.project.vitest.logger.outputStream;
    this.err = options.project.vitest.logger.errorStream;
  }

  override async start(): Promise<void> {
    if (this.child) return;
    const child = fork(this.entrypoint, [], {
      execPath: this.execPath,
      env: this.env,
      execArgv: this.execArgv,
      stdio: 'pipe',
      serialization: 'advanced',
    });
    this.child = child;
    child.stdout?.pipe(this.out, { end: false });
    child.stderr?.pipe(this.err, { end: false });
  }

  override async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
    // As vitest's own forks pool: SIGTERM, then SIGKILL if the test code keeps it alive.
    const kill = setTimeout(() => child.kill('SIGKILL'), 500);
    child.kill();
    await exited;
    clearTimeout(kill);
    child.stdout?.unpipe(this.out);
    child.stderr?.unpipe(this.err);
    this.child = undefined;
  }

  override on(event: string, callback: (arg: unknown) => void): void {
    this.started().on(event, callback);
  }

  override off(event: string, callback: (arg: unknown) => void): void {
    this.started().off(event, callback);
  }

  override send(message: Parameters<PoolWorker['send']>[0]): void {
    this.started().send(message);
  }

  private started(): ChildProcess {
    if (!this.child) throw new Error(`${this.name}: the test process (${this.execPath}) is not running`);
    return this.child;
  }
}
