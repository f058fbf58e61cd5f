// SerialConsolePort over @serialport/binding-mock, wrapped to see (and fail) what a pty cannot
// show: DTR/RTS on every set(), refused BREAKs, write errors, the open options.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { isLifelineError, silentLogger, type SerialConsoleConfig } from '@lifeline/shared';
import { describeConsolePortContract, PortReader } from './console-port.contract.js';
import { SerialConsolePort } from './serial-console-port.js';
import type { SerialBinding, SerialBindingPort, SerialOpenOptions } from './serial-binding.js';

// binding-mock's ESM entry ships no types under its "exports"; load the CJS build and name what we use.
interface MockPortBinding extends SerialBindingPort {
  emitData(data: Buffer): void;
}
const { MockBinding } = createRequire(import.meta.url)('@serialport/binding-mock') as {
  MockBinding: { createPort(path: string): void; open(options: SerialOpenOptions): Promise<MockPortBinding> };
};

let nextPath = 0;

class InstrumentedBinding implements SerialBinding {
  readonly path = `/dev/ttyMOCK${nextPath++}`;
  readonly opened: SerialOpenOptions[] = [];
  readonly setCalls: Array<{ brk: boolean; dtr: boolean; rts: boolean }> = [];
  written = Buffer.alloc(0);
  current: MockPortBinding | undefined;
  /** The adapter's TIOCMGET: false for a tty without modem lines. */
  modemLines = true;
  setError: Error | undefined;
  writeError: Error | undefined;
  activeWrites = 0;
  maxActiveWrites = 0;

  constructor() {
    MockBinding.createPort(this.path);
  }

  async open(options: SerialOpenOptions): Promise<SerialBindingPort> {
    this.opened.push(options);
    const h = await MockBinding.open(options);
    this.current = h;
    return {
      get isOpen() {
        return h.isOpen;
      },
      read: (buffer, offset, length) => h.read(buffer, offset, length),
      write: async (buffer) => {
        this.maxActiveWrites = Math.max(this.maxActiveWrites, ++this.activeWrites);
        try {
          await new Promise((r) => setTimeout(r, 1));
          if (this.writeError) throw this.writeError;
          await h.write(buffer);
          this.written = Buffer.concat([this.written, buffer]);
        } finally {
          this.activeWrites -= 1;
        }
      },
      set: async (options) => {
        this.setCalls.push(options);
        if (this.setError) throw this.setError;
        await h.set(options);
      },
      get: async () => {
        if (!this.modemLines) throw new Error('Error: Inappropriate ioctl for device, cannot get');
        return h.get();
      },
      close: () => h.close(),
    };
  }

  breaks(): number {
    let on = false;
    let count = 0;
    for (const call of this.setCalls) {
      if (call.brk && !on) count += 1;
      on = call.brk;
    }
    return count;
  }
}

function config(path: string, extra: Partial<SerialConsoleConfig> = {}): SerialConsoleConfig {
  return { type: 'serial', path, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, flowControl: 'none', ...extra };
}

function setup(extra: Partial<SerialConsoleConfig> = {}): { binding: InstrumentedBinding; port: SerialConsolePort } {
  const binding = new InstrumentedBinding();
  const port = new SerialConsolePort(config(binding.path, extra), { logger: silentLogger(), binding });
  ports.push(port);
  return { binding, port };
}

const ports: SerialConsolePort[] = [];
afterEach(async () => {
  for (const port of ports.splice(0)) await port.close();
});

describeConsolePortContract('SerialConsolePort on binding-mock', async () => {
  const { binding, port } = setup();
  const far = {
    write: async (data: Buffer) => {
      if (binding.current?.isOpen) binding.current.emitData(data);
    },
    readExactly: async (n: number, timeoutMs = 5_000) => {
      const deadline = Date.now() + timeoutMs;
      while (binding.written.length < n) {
        if (Date.now() > deadline) throw new Error(`far end got ${binding.written.length} of ${n} bytes`);
        await new Promise((r) => setTimeout(r, 2));
      }
      const out = binding.written.subarray(0, n);
      binding.written = binding.written.subarray(n);
      return out;
    },
    breaks: () => binding.breaks(),
  };
  return { port, far, cleanup: () => port.close() };
});

describe('SerialConsolePort with an instrumented binding', () => {
  it('passes the DTR and RTS it keeps with every BREAK change', async () => {
    const { binding, port } = setup();
    await port.open();
    await port.setBreak(true);
    await port.setBreak(false);
    expect(binding.setCalls).toEqual([
      { brk: true, dtr: true, rts: true },
      { brk: false, dtr: true, rts: true },
    ]);
  });

  it('rejects setBreak with CONSOLE_BREAK_FAILED when the adapter refuses, and keeps the port usable', async () => {
    const { binding, port } = setup();
    await port.open();
    binding.setError = new Error('Error: Invalid argument, cannot set');
    const err = await port.setBreak(true).catch((e: unknown) => e);
    expect(isLifelineError(err, 'CONSOLE_BREAK_FAILED')).toBe(true);
    expect((err as Error).message).toBe(`serial port ${binding.path}: cannot send a break (Invalid argument, cannot set)`);
    expect(port.isOpen).toBe(true);
    await port.write(Buffer.from('show version\r'));
    expect(binding.written.toString()).toBe('show version\r');
    binding.current?.emitData(Buffer.from('Router#'));
    expect((await new PortReader(port).readExactly(7)).toString()).toBe('Router#');
  });

  it('reports ENOTTY as CONSOLE_BREAK_FAILED on a port that has modem lines (the break ioctl itself failed)', async () => {
    const { binding, port } = setup();
    await port.open();
    binding.setError = new Error('Error: Inappropriate ioctl for device, cannot set');
    await expect(port.setBreak(true)).rejects.toSatisfy((e) => isLifelineError(e, 'CONSOLE_BREAK_FAILED'));
  });

  it('accepts the modem-line ENOTTY on a port without modem lines, where the break ioctl ran first', async () => {
    const { binding, port } = setup();
    binding.modemLines = false;
    await port.open();
    binding.setError = new Error('Error: Inappropriate ioctl for device, cannot set');
    await port.setBreak(true);
    await port.setBreak(false);
    expect(binding.setCalls.map((c) => c.brk)).toEqual([true, false]);
  });

  it('still reports other set() failures on a port without modem lines', async () => {
    const { binding, port } = setup();
    binding.modemLines = false;
    await port.open();
    binding.setError = new Error('Error: Input/output error, cannot set');
    await expect(port.setBreak(true)).rejects.toSatisfy((e) => isLifelineError(e, 'CONSOLE_BREAK_FAILED'));
    expect(port.isOpen).toBe(true);
  });

  it('opens with the configured framing, flow control and an exclusive lock', async () => {
    const { binding, port } = setup({ baudRate: 115_200, dataBits: 7, parity: 'even', stopBits: 2, flowControl: 'rtscts' });
    await port.open();
    expect(binding.opened[0]).toEqual({
      path: binding.path,
      baudRate: 115_200,
      dataBits: 7,
      parity: 'even',
      stopBits: 2,
      rtscts: true,
      xon: false,
      xoff: false,
      lock: true,
    });
    const xon = setup({ flowControl: 'xonxoff' });
    await xon.port.open();
    expect(xon.binding.opened[0]).toMatchObject({ rtscts: false, xon: true, xoff: true });
  });

  it('refuses mark parity with CONSOLE_OPEN_FAILED instead of passing it to a driver that cannot do it', async () => {
    const { binding, port } = setup({ parity: 'mark' });
    const err = await port.open().catch((e: unknown) => e);
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect(binding.opened).toEqual([]);
  });

  it('hands overlapping writes to the binding one at a time, in order', async () => {
    const { binding, port } = setup();
    await port.open();
    await Promise.all(['a', 'b', 'c', 'd'].map((s) => port.write(Buffer.from(s))));
    expect(binding.written.toString()).toBe('abcd');
    expect(binding.maxActiveWrites).toBe(1);
  });

  it('rejects a failed write with CONSOLE_WRITE_FAILED and stays open', async () => {
    const { binding, port } = setup();
    await port.open();
    binding.writeError = new Error('something odd');
    await expect(port.write(Buffer.from('x'))).rejects.toSatisfy((e) => isLifelineError(e, 'CONSOLE_WRITE_FAILED'));
    expect(port.isOpen).toBe(true);
  });

  it('treats EIO on write as the adapter gone: CONSOLE_DISCONNECTED, and a pending read fails the same way', async () => {
    const { binding, port } = setup();
    await port.open();
    const pending = port.read().catch((e: unknown) => e);
    binding.writeError = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    await expect(port.write(Buffer.from('x'))).rejects.toSatisfy((e) => isLifelineError(e, 'CONSOLE_DISCONNECTED'));
    expect(isLifelineError(await pending, 'CONSOLE_DISCONNECTED')).toBe(true);
    expect(port.isOpen).toBe(false);
  });
});
