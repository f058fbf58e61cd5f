import { describe, expect, it } from 'vitest';
import { isCanceled, isLifelineError } from '@lifeline/shared';
import { describeConsolePortContract, PortReader } from '../console/console-port.contract.js';
import { MemoryConsolePort } from './memory-console-port.js';

describeConsolePortContract('MemoryConsolePort', async () => {
  const port = new MemoryConsolePort({ bufferBytes: 16 * 1024 });
  return { port, far: port.far, cleanup: () => port.close() };
});

describe('MemoryConsolePort', () => {
  it('rejects open with CONSOLE_NOT_PRESENT while the device is absent, and opens once it is back', async () => {
    const port = new MemoryConsolePort({ description: 'serial port /dev/ttyUSB9' });
    port.far.present = false;
    const err = await port.open().catch((e: unknown) => e);
    expect(isLifelineError(err, 'CONSOLE_NOT_PRESENT')).toBe(true);
    expect((err as Error).message).toBe('serial port /dev/ttyUSB9 is not present');
    expect(port.isOpen).toBe(false);
    port.far.plug();
    await port.open();
    expect(port.isOpen).toBe(true);
    expect(port.far.openCount).toBe(2);
  });

  it('rejects a pending read with CONSOLE_DISCONNECTED on unplug and closes the port', async () => {
    const port = new MemoryConsolePort();
    await port.open();
    const pending = port.read();
    port.far.unplug();
    const err = await pending.catch((e: unknown) => e);
    expect(isLifelineError(err, 'CONSOLE_DISCONNECTED')).toBe(true);
    expect(port.isOpen).toBe(false);
    expect(isLifelineError(await port.write(Buffer.from('x')).catch((e: unknown) => e), 'CONSOLE_DISCONNECTED')).toBe(true);
    await expect(port.open()).rejects.toSatisfy((e) => isLifelineError(e, 'CONSOLE_NOT_PRESENT'));
    port.far.plug();
    await port.open();
    await port.far.write('back');
    expect((await port.read()).toString()).toBe('back');
  });

  it('delivers output that arrived before an unplug, then reports the disconnect', async () => {
    const port = new MemoryConsolePort();
    await port.open();
    await port.far.write('last words');
    port.far.unplug();
    expect((await port.read()).toString()).toBe('last words');
    await expect(port.read()).rejects.toSatisfy((e) => isLifelineError(e, 'CONSOLE_DISCONNECTED'));
  });

  it('records each BREAK transition once', async () => {
    const port = new MemoryConsolePort();
    await port.open();
    await port.setBreak(true);
    await port.setBreak(true);
    expect(port.far.inBreak).toBe(true);
    await port.setBreak(false);
    await port.setBreak(true);
    await port.setBreak(false);
    expect(port.far.breakTransitions).toEqual([true, false, true, false]);
    expect(port.far.breaks()).toBe(2);
    expect(port.far.inBreak).toBe(false);
  });

  it('rejects setBreak with CONSOLE_BREAK_FAILED when the device refuses, and keeps working', async () => {
    const port = new MemoryConsolePort();
    await port.open();
    port.far.refuseBreak = true;
    await expect(port.setBreak(true)).rejects.toSatisfy((e) => isLifelineError(e, 'CONSOLE_BREAK_FAILED'));
    expect(port.isOpen).toBe(true);
    await port.write(Buffer.from('still here'));
    expect(port.far.takeWritten().toString()).toBe('still here');
  });

  it('holds a write until the far end reads, then resolves it', async () => {
    const port = new MemoryConsolePort({ bufferBytes: 1024 });
    await port.open();
    let done = false;
    const write = port.write(Buffer.alloc(4096, 0x41)).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    expect((await port.far.readExactly(4096)).equals(Buffer.alloc(4096, 0x41))).toBe(true);
    await write;
    expect(done).toBe(true);
  });

  it('holds device output while nobody reads the port, and rejects the stalled write on close', async () => {
    const port = new MemoryConsolePort({ bufferBytes: 1024 });
    await port.open();
    let farDone = false;
    const farWrite = port.far.write(Buffer.alloc(4096, 0x42)).then(() => (farDone = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(farDone).toBe(false);
    expect((await new PortReader(port).readExactly(4096)).length).toBe(4096);
    await farWrite;

    const stalled = port.write(Buffer.alloc(4096));
    await port.close();
    expect(isCanceled(await stalled.catch((e: unknown) => e))).toBe(true);
  });

  it('loses device output sent while the port is closed, as a real line does', async () => {
    const port = new MemoryConsolePort();
    await port.far.write('nobody listens');
    await port.open();
    await port.far.write('hello');
    expect((await port.read()).toString()).toBe('hello');
  });
});
