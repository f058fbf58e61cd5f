import { afterEach, describe, expect, it } from 'vitest';
import { isCanceled, silentLogger } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { describeConsolePortLifecycle, withTimeout } from './console-port.contract.js';
import { SimConsolePort } from './sim-console-port.js';

describeConsolePortLifecycle('SimConsolePort', async () => {
  const port = new SimConsolePort({ type: 'sim', hostname: 'demo-router' }, { logger: silentLogger() });
  return { port, cleanup: () => port.close() };
});

describe('SimConsolePort', () => {
  const ports: SimConsolePort[] = [];
  afterEach(async () => {
    for (const port of ports.splice(0)) await port.close();
  });

  async function openSim(hostname = 'demo-router'): Promise<{ port: SimConsolePort; until(text: string): Promise<string> }> {
    const port = new SimConsolePort({ type: 'sim', hostname }, { logger: silentLogger(), clock: new FakeClock(Date.UTC(2026, 0, 1)) });
    ports.push(port);
    await port.open();
    let seen = '';
    /** Reads until the output so far ends with `text`; returns (and forgets) everything read. */
    async function until(text: string): Promise<string> {
      while (!seen.endsWith(text)) {
        seen += (await withTimeout(port.read(), 2_000, () => `no "${text}" after ${JSON.stringify(seen)}`)).toString('latin1');
      }
      const all = seen;
      seen = '';
      return all;
    }
    return { port, until };
  }

  it('boots with a banner and the hostname prompt on open', async () => {
    const { port, until } = await openSim('core-sw1');
    expect(port.description).toBe('simulated router core-sw1');
    const banner = await until('\r\ncore-sw1>');
    expect(banner).toContain('System Bootstrap');
    expect(banner).toContain('lifeline simulated router');
  });

  it('answers typed commands through the port', async () => {
    const { port, until } = await openSim();
    await until('demo-router>');
    await port.write(Buffer.from('enable\r'));
    expect(await until('demo-router#')).toBe('enable\r\ndemo-router#');
    await port.write(Buffer.from('show version\r\n'));
    expect(await until('demo-router#')).toContain('lifeline simulated IOS');
    await port.write(Buffer.from('frobnicate\r'));
    expect(await until('demo-router#')).toContain('% Invalid input detected');
  });

  it('drops into ROMMON on a break and comes back to the normal prompt on boot', async () => {
    const { port, until } = await openSim();
    await until('demo-router>');
    await port.setBreak(true);
    await port.setBreak(false);
    expect(await until('rommon 1 > ')).toContain('*** System received a Break ***');
    await port.write(Buffer.from('confreg\r'));
    expect(await until('rommon 2 > ')).toContain('0x2102');
    await port.write(Buffer.from('xyzzy\r'));
    expect(await until('rommon 3 > ')).toContain('monitor: command "xyzzy" not found');
    await port.write(Buffer.from('boot\r'));
    expect(await until('\r\ndemo-router>')).toContain('System Bootstrap');
    await port.write(Buffer.from('\r'));
    expect(await until('demo-router>')).toBe('\r\ndemo-router>');
  });

  it('sends one break per rising edge, however often setBreak(true) repeats', async () => {
    const { port, until } = await openSim();
    await until('demo-router>');
    await port.setBreak(true);
    await port.setBreak(true);
    await port.setBreak(false);
    await until('rommon 1 > ');
    await port.write(Buffer.from('\r'));
    // Had the repeat broken in again, its banner would come before this prompt.
    expect(await until('rommon 2 > ')).toBe('\r\nrommon 2 > ');
  });

  it('holds input while its answers go unread, and releases it on close', async () => {
    const { port } = await openSim();
    // Each "?" answers with a few hundred bytes; nobody reads, so the output queue fills.
    let stalled: Promise<void> | undefined;
    for (let i = 0; i < 1_000 && !stalled; i++) {
      const write = port.write(Buffer.from('?\r'));
      const done = await Promise.race([write.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20))]);
      if (!done) stalled = write;
    }
    expect(stalled).toBeDefined();
    await port.close();
    expect(isCanceled(await stalled!.catch((e: unknown) => e))).toBe(true);
  });
});
