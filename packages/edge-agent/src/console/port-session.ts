import { LifelineError, type Logger } from '@lifeline/shared/core';
import { ChunkQueue } from './chunk-queue.js';

/** A producer of device output that can hold it back (a socket, a Telnet endpoint, ipmitool's stdout). */
export interface PausableSource {
  pause(): void;
  resume(): void;
}

/**
 * One open of a console port: what carries it (`resource`: a serial handle, a socket, an
 * ipmitool process), the bounded queue of device output waiting for a reader, and how it ended.
 * Once ended, every later read (after what was queued, unless discarded), write and break
 * rejects with the reason: CONSOLE_CANCELED after close(), CONSOLE_DISCONNECTED after a loss.
 */
export class PortSession<R> {
  readonly queue: ChunkQueue;
  /** Rejects with the end reason once the session ends: race a wait (drain, a reply) against it. */
  readonly ended: Promise<never>;
  private reason: LifelineError | undefined;
  private rejectEnded!: (err: LifelineError) => void;
  private jobs: Promise<void> = Promise.resolve();
  private readonly held = new Set<PausableSource>();

  constructor(
    readonly resource: R,
    readQueueBytes: number,
  ) {
    this.queue = new ChunkQueue(readQueueBytes);
    this.ended = new Promise<never>((_, reject) => (this.rejectEnded = reject));
    this.ended.catch(() => undefined);
  }

  /** Why the session ended; undefined while it lasts. */
  get endedWith(): LifelineError | undefined {
    return this.reason;
  }

  /**
   * Runs `job` once the jobs before it have finished, if the session still lasts then (else
   * rejects with the end reason). For writes and breaks that a port must issue one at a time;
   * a failed job does not hold up the next.
   */
  serialize<T>(job: () => Promise<T>): Promise<T> {
    const run = this.jobs.then(() => {
      if (this.reason) throw this.reason;
      return job();
    });
    this.jobs = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Queues device output; while the queue is full, `source` is paused, and resumed once there is room. */
  deliver(chunk: Buffer, source: PausableSource): void {
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    if (this.queue.hasRoom || this.held.has(source)) return;
    this.held.add(source);
    source.pause();
    this.queue.room().then(
      () => {
        this.held.delete(source);
        source.resume();
      },
      () => undefined,
    );
  }

  /** Ends the session (PortSessions does this); the first end wins. `discard` drops unread output. */
  end(reason: LifelineError, discard: boolean): boolean {
    if (this.reason) return false;
    this.reason = reason;
    this.queue.end(reason, { discard });
    this.rejectEnded(reason);
    return true;
  }
}

/**
 * Device output a console port holds while nobody reads it, before it pauses the source (the
 * serial line, the socket, ipmitool). Not configurable: reading resumes within one event-loop turn
 * of the relay's stream taking more, so this only needs to hold one burst of a fast console.
 */
export const READ_QUEUE_BYTES = 64 * 1024;

export interface PortSessionsOptions<R> {
  /** The port's description, for messages: `serial port /dev/ttyUSB0 is closed`. */
  description: string;
  logger: Logger;
  /** Device output held while nobody reads before the source is paused; READ_QUEUE_BYTES unless a test says otherwise. */
  readQueueBytes?: number;
  /**
   * Lets go of what one session holds (closes the handle, the socket, ipmitool), once it ended:
   * `closed` by close(), which waits for it; `lost` when the device went away. The next open()
   * waits until every release has finished, so it never races the last one for the device.
   */
  release(session: PortSession<R>, how: 'closed' | 'lost'): Promise<void> | void;
}

/** Handed to the function that opens a session: close() may abandon the open meanwhile. */
export interface Opening<R> {
  /** Throws CONSOLE_CANCELED once close() abandoned this open. */
  check(): void;
  /** The device is open: makes `resource` the current session (released at once, and CANCELED, if abandoned). */
  begin(resource: R): PortSession<R>;
}

/**
 * The open / lose / cancel / close bookkeeping every ConsolePort shares (node-serialport's
 * model): one session at a time; reads and writes interrupted by close() reject with
 * CONSOLE_CANCELED; a loss (lose()) rejects them with CONSOLE_DISCONNECTED, after the output read
 * before it, and the port may be opened again; close() during open() abandons the open.
 */
export class PortSessions<R> {
  private current: PortSession<R> | undefined;
  /** The session that ended last, so reads and writes after a loss say DISCONNECTED, not CANCELED. */
  private previous: PortSession<R> | undefined;
  private opening: { aborted: boolean; done: Promise<unknown> } | undefined;
  private releasing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PortSessionsOptions<R>) {}

  get isOpen(): boolean {
    return this.current !== undefined;
  }

  /**
   * Runs `start` to open the device; it calls `opening.begin(resource)` once the device is open.
   * Throws if already open or opening. When `start` fails after begin(), that session is ended
   * and released: a failed open leaves the port closed.
   */
  async open(start: (opening: Opening<R>) => Promise<void>): Promise<void> {
    if (this.current || this.opening) throw new Error(`${this.options.description} is already open`);
    const opening = { aborted: false, done: Promise.resolve() as Promise<unknown> };
    this.opening = opening;
    const made: { session?: PortSession<R> } = {};
    const run = async () => {
      await this.releasing;
      await start({
        check: () => {
          if (opening.aborted) throw this.canceled();
        },
        begin: (resource) => {
          const session = new PortSession(resource, this.options.readQueueBytes ?? READ_QUEUE_BYTES);
          if (opening.aborted) {
            session.end(this.canceled(), true);
            this.track(this.options.release(session, 'closed'));
            throw this.canceled();
          }
          made.session = session;
          this.current = session;
          return session;
        },
      });
    };
    const done = run();
    opening.done = done.catch(() => undefined);
    try {
      await done;
    } catch (err) {
      const begun = made.session;
      if (begun) {
        // A failed open leaves the port closed, as if never opened.
        if (begun.end(this.canceled(), true)) this.track(this.options.release(begun, 'closed'));
        this.forget(begun);
      }
      throw err;
    } finally {
      this.opening = undefined;
    }
  }

  /** The next chunk of output of the current session, or of the one that ended last. */
  read(): Promise<Buffer> {
    const session = this.current ?? this.previous;
    return session ? session.queue.next() : Promise.reject(this.canceled());
  }

  /** The open session, for a write or break; throws how the last one ended (CANCELED when none). */
  active(): PortSession<R> {
    if (this.current) return this.current;
    throw this.previous?.endedWith ?? this.canceled();
  }

  /** The device went away: output read before the loss is still delivered, then CONSOLE_DISCONNECTED. */
  lose(session: PortSession<R>, message: string, cause?: unknown): void {
    if (session.endedWith) return;
    this.options.logger.warn({ err: cause }, message);
    this.finish(session, new LifelineError('CONSOLE_DISCONNECTED', message, cause === undefined ? undefined : { cause }), false);
    this.track(this.options.release(session, 'lost'));
  }

  /**
   * Ends the session (a pending read rejects CONSOLE_CANCELED) and waits until it is released;
   * an open under way is abandoned (it rejects CONSOLE_CANCELED). Harmless when closed.
   */
  async close(): Promise<void> {
    const opening = this.opening;
    if (opening) opening.aborted = true;
    const session = this.current;
    if (session) {
      this.finish(session, this.canceled(), true);
      this.track(this.options.release(session, 'closed'));
    }
    if (opening) await opening.done;
    await this.releasing;
  }

  canceled(): LifelineError {
    return new LifelineError('CONSOLE_CANCELED', `${this.options.description} is closed`);
  }

  private finish(session: PortSession<R>, reason: LifelineError, discard: boolean): void {
    session.end(reason, discard);
    if (this.current === session) this.current = undefined;
    this.previous = session;
  }

  private forget(session: PortSession<R>): void {
    if (this.current === session) this.current = undefined;
    this.previous = undefined;
  }

  private track(release: Promise<void> | void): void {
    this.releasing = Promise.all([this.releasing, Promise.resolve(release).catch(() => undefined)]);
  }
}
