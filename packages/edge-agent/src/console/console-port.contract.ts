/**
 * The one test suite every ConsolePort runs (node-serialport style): the in-memory double, a real
 * serial port over a socat pty pair, the Telnet port. Imported only from `*.test.ts` files; tsc
 * leaves `*.contract.ts` out of dist because it imports vitest.
 *
 * Usage, in `my-console-port.test.ts`:
 * ```ts
 * describeConsolePortContract('MyConsolePort', async () => ({ port, far, cleanup }));
 * ```
 * A port that is not byte-transparent (the simulated router) runs only the lifecycle cases with
 * `describeConsolePortLifecycle`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCanceled, isLifelineError } from '@lifeline/shared';
import type { ConsolePort } from './console-port.js';

/** The device side of the line, as a test drives it. */
export interface FarEnd {
  /** Sends bytes to the port (device output); resolves when the line has taken them. */
  write(data: Buffer): Promise<void>;
  /** Resolves with exactly the next `n` bytes the port wrote; rejects after `timeoutMs`. */
  readExactly(n: number, timeoutMs?: number): Promise<Buffer>;
  /** How many BREAKs have begun on the line so far; leave it out when the line cannot carry one. */
  breaks?(): number;
}

export interface ConsolePortFixture {
  /** A closed port; the suite opens it. */
  port: ConsolePort;
  far: FarEnd;
  /** Closes the port if still open and stops whatever the fixture started. */
  cleanup(): Promise<void>;
}

export interface LifecycleFixture {
  port: ConsolePort;
  cleanup(): Promise<void>;
}

const burstBytes = 256 * 1024;
const burstChunk = 4096;
const burstTimeoutMs = 20_000;

/** Lifecycle cases only: for ports whose far end a test cannot drive byte for byte. */
export function describeConsolePortLifecycle(name: string, makeFixture: () => Promise<LifecycleFixture>): void {
  describe(`${name} (ConsolePort lifecycle contract)`, () => {
    const current = useFixture(makeFixture);
    lifecycleCases(() => current().port);
  });
}

/** The full contract: lifecycle plus data both ways, byte transparency, bursts and BREAK. */
export function describeConsolePortContract(name: string, makeFixture: () => Promise<ConsolePortFixture>): void {
  describe(`${name} (ConsolePort contract)`, () => {
    const current = useFixture(makeFixture);
    lifecycleCases(() => current().port);

    it('reads what the far end writes after open', async () => {
      const { port, far } = current();
      await port.open();
      await far.write(Buffer.from('Router>'));
      expect((await new PortReader(port).readExactly(7)).toString()).toBe('Router>');
    });

    it('passes all 256 byte values from the far end to the port', async () => {
      const { port, far } = current();
      await port.open();
      await far.write(allByteValues());
      expect(await new PortReader(port).readExactly(256)).toEqual(allByteValues());
    });

    it('passes all 256 byte values from the port to the far end', async () => {
      const { port, far } = current();
      await port.open();
      await port.write(allByteValues());
      expect(await far.readExactly(256)).toEqual(allByteValues());
    });

    it('carries a 256 KiB burst from the far end intact and in order', async () => {
      const { port, far } = current();
      await port.open();
      const data = patternBytes(burstBytes);
      const received = new PortReader(port).readExactly(data.length, burstTimeoutMs);
      for (let at = 0; at < data.length; at += burstChunk) await far.write(data.subarray(at, at + burstChunk));
      expect(Buffer.compare(await received, data)).toBe(0);
    });

    it('carries a 256 KiB burst to the far end intact and in order', async () => {
      const { port, far } = current();
      await port.open();
      const data = patternBytes(burstBytes);
      const received = far.readExactly(data.length, burstTimeoutMs);
      for (let at = 0; at < data.length; at += burstChunk) await port.write(data.subarray(at, at + burstChunk));
      expect(Buffer.compare(await received, data)).toBe(0);
    });

    it('carries data both ways again after close and reopen', async () => {
      const { port, far } = current();
      await port.open();
      await port.close();
      await port.open();
      await far.write(Buffer.from('again'));
      expect((await new PortReader(port).readExactly(5)).toString()).toBe('again');
      await port.write(Buffer.from('ok\r'));
      expect((await far.readExactly(3)).toString()).toBe('ok\r');
    });

    it('raises a break the far end can see and keeps carrying data afterwards', async () => {
      const { port, far } = current();
      await port.open();
      const before = far.breaks?.();
      await port.setBreak(true);
      await port.setBreak(false);
      if (far.breaks && before !== undefined) expect(far.breaks()).toBe(before + 1);
      await port.write(Buffer.from('after break'));
      expect((await far.readExactly(11)).toString()).toBe('after break');
      await far.write(Buffer.from('rommon 1 > '));
      expect((await new PortReader(port).readExactly(11)).toString()).toBe('rommon 1 > ');
    });
  });
}

function useFixture<F extends LifecycleFixture>(makeFixture: () => Promise<F>): () => F {
  let fixture: F | undefined;
  beforeEach(async () => {
    fixture = await makeFixture();
  });
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = undefined;
  });
  return () => {
    if (!fixture) throw new Error('contract fixture used outside a test');
    return fixture;
  };
}

function lifecycleCases(port: () => ConsolePort): void {
  it('is open only between open() and close()', async () => {
    expect(port().isOpen).toBe(false);
    await port().open();
    expect(port().isOpen).toBe(true);
    await port().close();
    expect(port().isOpen).toBe(false);
  });

  it('refuses to open twice and stays open', async () => {
    await port().open();
    await expect(port().open()).rejects.toThrow();
    expect(port().isOpen).toBe(true);
  });

  it('rejects a pending read with CONSOLE_CANCELED when closed', async () => {
    await port().open();
    const { read } = await quietRead(port());
    await port().close();
    const err = await read.then(
      () => new Error('read resolved after close'),
      (e: unknown) => e,
    );
    expect(isCanceled(err)).toBe(true);
  });

  it('rejects a write after close with CONSOLE_CANCELED', async () => {
    await port().open();
    await port().close();
    const err = await port()
      .write(Buffer.from('x'))
      .then(
        () => new Error('write resolved after close'),
        (e: unknown) => e,
      );
    expect(isLifelineError(err, 'CONSOLE_CANCELED')).toBe(true);
  });

  it('closes harmlessly when already closed', async () => {
    await port().close();
    await port().open();
    await port().close();
    await port().close();
    expect(port().isOpen).toBe(false);
  });

  it('opens again after close', async () => {
    await port().open();
    await port().close();
    await port().open();
    expect(port().isOpen).toBe(true);
  });

  it('raises and clears a break', async () => {
    await port().open();
    await port().setBreak(true);
    await port().setBreak(false);
    expect(port().isOpen).toBe(true);
  });
}

/**
 * Reads and discards whatever the port has ready (a simulated router prints a banner on open) and
 * returns the first read still pending after `quietMs`: the port has gone quiet.
 */
async function quietRead(port: ConsolePort, quietMs = 150, attempts = 200): Promise<{ read: Promise<Buffer> }> {
  for (let i = 0; i < attempts; i++) {
    const read = port.read();
    const outcome = await Promise.race([read.then(() => 'data' as const), delay(quietMs).then(() => 'pending' as const)]);
    // Wrapped: an async function returning the bare promise would wait for it.
    if (outcome === 'pending') return { read };
  }
  throw new Error(`${port.description} never went quiet`);
}

/** Collects a port's reads into exact-length answers; one read pending at a time, as the contract demands. */
export class PortReader {
  private buffered = Buffer.alloc(0);
  private pending: Promise<Buffer> | undefined;

  constructor(private readonly port: ConsolePort) {}

  async readExactly(n: number, timeoutMs = 5_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < n) {
      this.pending ??= this.port.read();
      const chunk = await withTimeout(
        this.pending,
        deadline - Date.now(),
        () => `${this.port.description}: got ${this.buffered.length} of ${n} bytes within ${timeoutMs} ms`,
      );
      this.pending = undefined;
      expect(chunk.length).toBeGreaterThan(0);
      this.buffered = Buffer.concat([this.buffered, chunk]);
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function allByteValues(): Buffer {
  return Buffer.from(Array.from({ length: 256 }, (_, i) => i));
}

/** Bytes from a small LCG: no period a misordered or dropped chunk could hide in. */
export function patternBytes(length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
