import { LifelineError, systemClock, type Clock, type Logger, type SimConsoleConfig } from '@lifeline/shared/core';
import { ChunkQueue } from './chunk-queue.js';
import type { ConsolePort } from './console-port.js';
import { RouterSimulator } from './router-simulator.js';

export interface SimConsolePortDeps {
  logger: Logger;
  clock?: Clock;
}

/** Output held while nobody reads; a write waits until it drains (the simulator answers input). */
const outputQueueBytes = 64 * 1024;

/**
 * The demo's console: a simulated router behind the ConsolePort plumbing. Each open powers the
 * router on (banner, then prompt); BREAK (the rising edge of `setBreak(true)`) drops it into ROMMON.
 */
export class SimConsolePort implements ConsolePort {
  readonly description: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private queue: ChunkQueue | undefined;
  private router: RouterSimulator | undefined;
  private breakOn = false;

  constructor(
    private readonly config: SimConsoleConfig,
    deps: SimConsolePortDeps,
  ) {
    this.description = `simulated router ${config.hostname}`;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger.child({ component: 'sim-console', hostname: config.hostname });
  }

  get isOpen(): boolean {
    return this.router !== undefined;
  }

  async open(): Promise<void> {
    if (this.router) throw new Error(`${this.description} is already open`);
    const queue = new ChunkQueue(outputQueueBytes);
    this.queue = queue;
    this.router = new RouterSimulator({ hostname: this.config.hostname, clock: this.clock }, (text) =>
      queue.push(Buffer.from(text, 'latin1')),
    );
    this.breakOn = false;
    this.router.powerOn();
    this.logger.info('simulated router powered on');
  }

  read(): Promise<Buffer> {
    return this.queue ? this.queue.next() : Promise.reject(this.canceled());
  }

  async write(data: Buffer): Promise<void> {
    const queue = this.queue;
    if (!this.router || !queue) throw this.canceled();
    // The router answers every keystroke: hold input while its output is unread.
    await queue.room();
    this.router?.input(data);
  }

  async setBreak(on: boolean): Promise<void> {
    if (!this.router) throw this.canceled();
    if (on && !this.breakOn) this.router.receiveBreak();
    this.breakOn = on;
  }

  async close(): Promise<void> {
    if (!this.router) return;
    this.router = undefined;
    this.queue?.end(this.canceled(), { discard: true });
    this.logger.info('simulated router powered off');
  }

  private canceled(): LifelineError {
    return new LifelineError('CONSOLE_CANCELED', `${this.description} is closed`);
  }
}
