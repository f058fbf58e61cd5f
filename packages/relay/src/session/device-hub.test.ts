import { describe, expect, it } from 'vitest';
import { isLifelineError, silentLogger } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import type { PartyTerminal } from './console-broker.js';
import { DeviceHub } from './device-hub.js';
import type { ConsoleStatus, UpstreamConsole } from './upstream-console.js';

class FakeUpstream implements UpstreamConsole {
  written: Buffer[] = [];
  breaks: boolean[] = [];
  paused = false;
  closed = false;
  full = false;
  private dataListeners: Array<(c: Buffer) => void> = [];
  private statusListeners: Array<(s: ConsoleStatus) => void> = [];
  private closeListeners: Array<() => void> = [];
  private drainListeners: Array<() => void> = [];

  write(data: Buffer): boolean {
    this.written.push(data);
    return !this.full;
  }
  onceDrain(l: () => void): void {
    this.drainListeners.push(l);
  }
  drain(): void {
    this.full = false;
    for (const l of this.drainListeners.splice(0)) l();
  }
  setBreak(on: boolean): void {
    this.breaks.push(on);
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  onData(l: (c: Buffer) => void): void {
    this.dataListeners.push(l);
  }
  onStatus(l: (s: ConsoleStatus) => void): void {
    this.statusListeners.push(l);
  }
  onClose(l: () => void): void {
    this.closeListeners.push(l);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners) l();
  }
  emitData(text: string): void {
    for (const l of this.dataListeners) l(Buffer.from(text));
  }
  emitStatus(s: ConsoleStatus): void {
    for (const l of this.statusListeners) l(s);
  }
}

class FakeTerminal implements PartyTerminal {
  output = '';
  notices: string[] = [];
  exitCode: number | undefined;
  full = false;
  private drainListeners: Array<() => void> = [];
  write(data: Buffer): boolean {
    this.output += data.toString('latin1');
    return !this.full;
  }
  onceDrain(l: () => void): void {
    this.drainListeners.push(l);
  }
  drain(): void {
    this.full = false;
    for (const l of this.drainListeners.splice(0)) l();
  }
  notice(line: string): void {
    this.notices.push(line);
  }
  end(code: number): void {
    this.exitCode = code;
  }
}

const device = { id: 'rtr-1', agentKey: 'k', breakMs: 500, maxBreakMs: 3_000 };

function setup() {
  const clock = new FakeClock();
  const hub = new DeviceHub(device, { logger: silentLogger(), clock });
  const upstream = new FakeUpstream();
  hub.connectUpstream(upstream);
  return { clock, hub, upstream };
}

describe('DeviceHub', () => {
  it('refuses to attach while the device is offline', () => {
    const hub = new DeviceHub(device, { logger: silentLogger() });
    let error: unknown;
    try {
      hub.attach('alice', 's1', undefined, new FakeTerminal());
    } catch (err) {
      error = err;
    }
    expect(isLifelineError(error, 'ROUTE_DEVICE_OFFLINE')).toBe(true);
    expect((error as Error).message).toContain('rtr-1 is offline');
  });

  it('passes keystrokes to the device and device output to the person', async () => {
    const { hub, upstream } = setup();
    const terminal = new FakeTerminal();
    const attachment = hub.attach('alice', 's1', { cols: 80, rows: 24 }, terminal);
    await attachment.input(Buffer.from('show version\r'));
    upstream.emitData('Cisco IOS\r\n');
    expect(Buffer.concat(upstream.written).toString()).toBe('show version\r');
    expect(terminal.output).toBe('Cisco IOS\r\n');
  });

  it('holds keystrokes back until a full upstream drains', async () => {
    const { hub, upstream } = setup();
    const attachment = hub.attach('alice', 's1', undefined, new FakeTerminal());
    upstream.full = true;
    let taken = false;
    const pending = attachment.input(Buffer.from('x')).then(() => (taken = true));
    await Promise.resolve();
    expect(taken).toBe(false);
    upstream.drain();
    await pending;
    expect(taken).toBe(true);
  });

  it('pauses the device output while the writer cannot keep up', () => {
    const { hub, upstream } = setup();
    const terminal = new FakeTerminal();
    hub.attach('alice', 's1', undefined, terminal);
    terminal.full = true;
    upstream.emitData('lots');
    expect(upstream.paused).toBe(true);
    terminal.drain();
    expect(upstream.paused).toBe(false);
  });

  it('uses the device default for a break of length 0 and clamps long ones', async () => {
    const { hub, upstream, clock } = setup();
    const attachment = hub.attach('alice', 's1', undefined, new FakeTerminal());
    await attachment.sendBreak(0);
    expect(upstream.breaks).toEqual([true]);
    await clock.advance(499);
    expect(upstream.breaks).toEqual([true]);
    await clock.advance(1);
    expect(upstream.breaks).toEqual([true, false]);

    await attachment.sendBreak(60_000);
    await clock.advance(2_999);
    expect(upstream.breaks).toEqual([true, false, true]);
    await clock.advance(1);
    expect(upstream.breaks).toEqual([true, false, true, false]);
  });

  it('honours the requested length of an OpenSSH break (1000 ms)', async () => {
    const { hub, upstream, clock } = setup();
    const attachment = hub.attach('alice', 's1', undefined, new FakeTerminal());
    await attachment.sendBreak(1_000);
    await clock.advance(999);
    expect(upstream.breaks).toEqual([true]);
    await clock.advance(1);
    expect(upstream.breaks).toEqual([true, false]);
  });

  it('tells a person who joins that the console is down, and everyone when it changes', () => {
    const { hub, upstream } = setup();
    const first = new FakeTerminal();
    hub.attach('alice', 's1', undefined, first);
    upstream.emitStatus({ state: 'down', message: 'serial port /dev/ttyUSB0 is not present' });
    const late = new FakeTerminal();
    hub.attach('alice', 's2', undefined, late);
    expect(first.notices).toEqual(['serial port /dev/ttyUSB0 is not present']);
    expect(late.notices).toEqual(['serial port /dev/ttyUSB0 is not present']);
  });

  it('keeps people attached while the agent reconnects, and says so', async () => {
    const { hub, upstream } = setup();
    const terminal = new FakeTerminal();
    const attachment = hub.attach('alice', 's1', undefined, terminal);
    upstream.close();
    expect(hub.online).toBe(false);
    expect(terminal.notices.at(-1)).toMatch(/lost/);
    await expect(attachment.sendBreak(0)).rejects.toSatisfy((err) => isLifelineError(err, 'ROUTE_DEVICE_OFFLINE'));

    const next = new FakeUpstream();
    hub.connectUpstream(next);
    expect(terminal.notices.at(-1)).toMatch(/back online/);
    await attachment.input(Buffer.from('a'));
    expect(next.written.map(String)).toEqual(['a']);
  });

  it('ignores input from a party that is not the writer', async () => {
    const { hub, upstream } = setup();
    hub.attach('alice', 's1', undefined, new FakeTerminal());
    const second = hub.attach('bob', 's2', undefined, new FakeTerminal());
    await second.input(Buffer.from('rm -rf'));
    expect(upstream.written).toEqual([]);
  });

  it('hands writing to the next person when the writer leaves', async () => {
    const { hub, upstream } = setup();
    const first = hub.attach('alice', 's1', undefined, new FakeTerminal());
    const second = hub.attach('bob', 's2', undefined, new FakeTerminal());
    first.detach('left');
    first.detach('left again');
    await second.input(Buffer.from('y'));
    expect(upstream.written.map(String)).toEqual(['y']);
    expect(hub.partyCount).toBe(1);
  });
});
