/**
 * The one test suite every LedDriver runs (as console-port.contract.ts does for console ports):
 * log, no-op, LED class device and sysfs GPIO on fake sysfs trees. Imported only
 * from `*.test.ts` files; tsc leaves `*.contract.ts` out of dist because it imports vitest.
 *
 * Usage, in `my-led-driver.test.ts`:
 * ```ts
 * describeLedDriverContract('MyLedDriver', async () => ({ driver, lit: () => ..., cleanup }));
 * ```
 * Also here: the fake sysfs tree and the log-capturing logger the LED tests share.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '@lifeline/shared';
import type { LedDriver } from './led-driver.js';

export interface LedDriverFixture {
  /** An opened driver. */
  driver: LedDriver;
  /** Whether the LED is lit, as the (fake) hardware or the log shows it; left out when there is nothing to look at (no-op). */
  lit?(): boolean;
  /** Whether the driver has given its resource back (pin unexported, trigger restored); left out when it holds none. */
  released?(): boolean;
  cleanup?(): Promise<void>;
}

export function describeLedDriverContract(name: string, makeFixture: () => Promise<LedDriverFixture>): void {
  describe(`${name} (LedDriver contract)`, () => {
    let fixture: LedDriverFixture;
    beforeEach(async () => {
      fixture = await makeFixture();
    });
    afterEach(async () => {
      await fixture.driver.close().catch(() => undefined);
      await fixture.cleanup?.();
    });

    it('opens with the LED off and holding its resource', () => {
      if (fixture.lit) expect(fixture.lit()).toBe(false);
      if (fixture.released) expect(fixture.released()).toBe(false);
      expect(fixture.driver.description).not.toBe('');
    });

    it('lights the LED on set(true) and puts it out on set(false), twice in a row without harm', () => {
      const { driver, lit } = fixture;
      driver.set(true);
      driver.set(true);
      if (lit) expect(lit()).toBe(true);
      driver.set(false);
      driver.set(false);
      if (lit) expect(lit()).toBe(false);
    });

    it('puts a lit LED out and releases it on close', async () => {
      fixture.driver.set(true);
      await fixture.driver.close();
      if (fixture.lit) expect(fixture.lit()).toBe(false);
      if (fixture.released) expect(fixture.released()).toBe(true);
    });

    it('ignores set() after close and resolves a second close', async () => {
      await fixture.driver.close();
      expect(() => fixture.driver.set(true)).not.toThrow();
      if (fixture.lit) expect(fixture.lit()).toBe(false);
      await expect(fixture.driver.close()).resolves.toBeUndefined();
    });
  });
}

/** Files of a fake sysfs tree (paths relative to its root, e.g. "class/leds/ACT/trigger") in a fresh temp dir. */
export async function fakeSysfsTree(files: Record<string, string>): Promise<{ root: string; remove(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'lifeline-sysfs-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

/** A debug-level logger whose JSON lines a test reads back. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ svc: 'test', version: '0', level: 'debug', destination }), lines };
}
