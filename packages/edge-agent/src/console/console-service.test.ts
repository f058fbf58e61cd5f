import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type ConsoleStatus, type WriterRefusal } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { MemoryConsolePort } from '../testing/memory-console-port.js';
import type { ConsoleFacts } from './console-facts.js';
import { ConsoleService } from './console-service.js';
import type { ConsoleStream } from './console-stream.js';
import { WriterFence } from './writer-fence.js';
import { WriterTokens } from './writer-tokens.js';

class FakeStream implements ConsoleStream {
  received: Buffer[] = [];
  statuses: ConsoleStatus[] = [];
  refusals: WriterRefusal[] = [];
  closed = false;
  /** Whether the relay behind it speaks LIFELINE-WRITER (false: a relay that predates the lease). */
  speaksWriter = true;
  private claimListeners: Array<(token: bigint) => void> = [];
  paused = false;
  private dataListeners: Array<(c: Buffer) => void> = [];
  private breakListeners: Array<(a: 'on' | 'off' | 'pulse') => void> = [];
  private closeListeners: Array<() => void> = [];
  write(data: Buffer): boolean {
    this.received.push(data);
    return true;
  }
  onceDrain(): void {}
  sendStatus(status: ConsoleStatus): void {
    this.statuses.push(status);
  }
  onData(l: (c: Buffer) => void): void {
    this.dataListeners.push(l);
  }
  onBreak(l: (a: 'on' | 'off' | 'pulse') => void): void {
    this.breakListeners.push(l);
  }
  onWriterClaim(l: (token: bigint) => void): void {
    this.claimListeners.push(l);
  }
  refuseWriter(refusal: WriterRefusal): boolean {
    if (this.speaksWriter) this.refusals.push(refusal);
    return this.speaksWriter;
  }
  claim(token: bigint): void {
    for (const l of this.claimListeners) l(token);
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  onClose(l: () => void): void {
    this.closeListeners.push(l);
  }
  close(): void {
    this.closed = true;
    for (const l of this.closeListeners) l();
  }
  fromRelay(text: string): void {
    for (const l of this.dataListeners) l(Buffer.from(text));
  }
  breakFromRelay(action: 'on' | 'off' | 'pulse'): void {
    for (const l of this.breakListeners) l(action);
  }
  text(): string {
    return Buffer.concat(this.received).toString();
  }
}

const settle = () => new Promise((r) => setTimeout(r, 5));
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await settle();
  expect(check()).toBe(true);
}

let service: ConsoleService | undefined;
afterEach(async () => {
  await service?.stop();
  service = undefined;
});

function setup(facts?: ConsoleFacts, fence?: WriterFence) {
  const clock = new FakeClock();
  const port = new MemoryConsolePort({ description: 'serial port /dev/ttyUSB0' });
  service = new ConsoleService({
    deviceId: 'rtr-1',
    port,
    retryMs: 2_000,
    logger: silentLogger(),
    clock,
    pulseBreakMs: 500,
    maxBreakMs: 10_000,
    facts,
    ...(fence ? { fence } : {}),
  });
  const stream = new FakeStream();
  return { clock, port, stream, service };
}

describe('ConsoleService', () => {
  it('bridges device output to the relay and keystrokes to the device', async () => {
    const { port, stream, service } = setup();
    service.start();
    service.attachStream(stream);
    await until(() => port.isOpen);
    await port.far.write('Router>');
    await until(() => stream.text() === 'Router>');
    stream.fromRelay('show version\r');
    expect((await port.far.readExactly(13)).toString()).toBe('show version\r');
  });

  it('tells the relay a missing port is not present, keeps retrying, and says when it is back', async () => {
    const { port, stream, service, clock } = setup();
    port.far.present = false;
    service.start();
    service.attachStream(stream);
    await until(() => stream.statuses.some((s) => s.state === 'down'));
    expect(stream.statuses.at(-1)?.message).toMatch(/^serial port \/dev\/ttyUSB0 is not present; retrying/);
    expect(port.far.openCount).toBe(1);
    await clock.advance(2_000);
    await until(() => port.far.openCount === 2);
    port.far.plug();
    await clock.advance(2_000);
    await until(() => port.isOpen);
    await until(() => stream.statuses.at(-1)?.state === 'up');
    expect(stream.statuses.at(-1)?.message).toBe('serial port /dev/ttyUSB0 is back');
  });

  it('tells the relay the console kind and line settings with every status, up and down', async () => {
    const { port, stream, service, clock } = setup({ kind: 'serial', line: '9600 8N1', power: false });
    port.far.present = false;
    service.start();
    service.attachStream(stream);
    await until(() => stream.statuses.some((s) => s.state === 'down'));
    port.far.plug();
    await clock.advance(2_000);
    await until(() => stream.statuses.at(-1)?.state === 'up');
    expect(stream.statuses.length).toBeGreaterThanOrEqual(2);
    for (const status of stream.statuses) expect(status).toMatchObject({ kind: 'serial', line: '9600 8N1', power: false });
  });

  it('reports an unplugged adapter and reopens it when it returns', async () => {
    const { port, stream, service, clock } = setup();
    service.start();
    service.attachStream(stream);
    await until(() => port.isOpen);
    port.far.unplug();
    await until(() => stream.statuses.at(-1)?.state === 'down');
    expect(stream.statuses.at(-1)?.message).toMatch(/disconnected/);
    port.far.plug();
    await clock.advance(2_000);
    await until(() => port.isOpen);
    await until(() => stream.statuses.at(-1)?.state === 'up');
  });

  it('gives a plain Telnet BREAK the default length', async () => {
    const { port, stream, service, clock } = setup();
    service.start();
    service.attachStream(stream);
    await until(() => port.isOpen);
    stream.breakFromRelay('pulse');
    await until(() => port.far.inBreak);
    await clock.advance(499);
    expect(port.far.inBreak).toBe(true);
    await clock.advance(1);
    await until(() => !port.far.inBreak);
    expect(port.far.breakTransitions).toEqual([true, false]);
  });

  it('clears a break whose "off" never arrives', async () => {
    const { port, stream, service, clock } = setup();
    service.start();
    service.attachStream(stream);
    await until(() => port.isOpen);
    stream.breakFromRelay('on');
    await until(() => port.far.inBreak);
    await clock.advance(10_000);
    await until(() => !port.far.inBreak);
  });

  it('reports a port that refuses BREAK and keeps the console usable', async () => {
    const { port, stream, service } = setup();
    port.far.refuseBreak = true;
    service.start();
    service.attachStream(stream);
    await until(() => port.isOpen);
    stream.breakFromRelay('on');
    await until(() => stream.statuses.some((s) => /break/i.test(s.message ?? '')));
    stream.fromRelay('x');
    expect((await port.far.readExactly(1)).toString()).toBe('x');
  });

  it('replaces an older relay stream with a newer one', async () => {
    const { port, service } = setup();
    service.start();
    const old = new FakeStream();
    const fresh = new FakeStream();
    service.attachStream(old);
    service.attachStream(fresh);
    expect(old.closed).toBe(true);
    await until(() => port.isOpen);
    await port.far.write('hello');
    await until(() => fresh.text() === 'hello');
    expect(old.text()).toBe('');
  });

  describe('with streams from several relays of a group (writer fence)', () => {
    /** The service with streams from relay-a:22 and relay-b:22, its port open. */
    async function twoRelays(fence?: WriterFence) {
      const { port, service } = setup(undefined, fence);
      service.start();
      const a = new FakeStream();
      const b = new FakeStream();
      service.attachStream(a, 'relay-a:22');
      service.attachStream(b, 'relay-b:22');
      await until(() => port.isOpen);
      return { port, service, a, b };
    }

    it('takes input from every relay while none has sent a writer token (a relay alone, or relays that predate the lease)', async () => {
      const { port, a, b } = await twoRelays();
      a.fromRelay('1');
      expect((await port.far.readExactly(1)).toString()).toBe('1');
      b.fromRelay('2');
      expect((await port.far.readExactly(1)).toString()).toBe('2');
    });

    it('takes input and BREAK only from the relay with the largest token, and tells a stale one once', async () => {
      const { port, a, b } = await twoRelays();
      a.claim(5n);
      a.fromRelay('a');
      expect((await port.far.readExactly(1)).toString()).toBe('a');
      // B takes the lease over (a larger token): A, not knowing yet, keeps typing and is refused.
      b.claim(7n);
      a.fromRelay('stale');
      a.fromRelay('stale again');
      a.breakFromRelay('pulse');
      b.fromRelay('b');
      expect((await port.far.readExactly(1)).toString()).toBe('b');
      expect(a.refusals).toEqual([{ refused: 'input', current: 7n, holder: 'relay-b:22' }]);
      expect(b.refusals).toEqual([]);
      // A claims again with its old token (it woke up from a freeze): refused at once.
      a.claim(5n);
      expect(a.refusals.at(-1)).toEqual({ refused: 'token', current: 7n, holder: 'relay-b:22' });
      // A gets the lease back with a new, larger token: it writes, B is refused.
      a.claim(9n);
      a.fromRelay('A');
      expect((await port.far.readExactly(1)).toString()).toBe('A');
      b.fromRelay('late');
      expect(b.refusals).toEqual([{ refused: 'input', current: 9n, holder: 'relay-a:22' }]);
    });

    it("keeps the largest token after its relay's stream ends: an older one stays refused, a relay that never claimed writes", async () => {
      const { port, service, a, b } = await twoRelays();
      a.claim(3n);
      b.fromRelay('no token');
      expect(b.refusals).toEqual([{ refused: 'input', current: 3n, holder: 'relay-a:22' }]);
      b.claim(4n);
      b.fromRelay('x');
      expect((await port.far.readExactly(1)).toString()).toBe('x');
      // A's relay dials again with a new stream and its old token: refused.
      const again = new FakeStream();
      service.attachStream(again, 'relay-a:22');
      again.claim(3n);
      again.fromRelay('old');
      expect(again.refusals).toEqual([{ refused: 'token', current: 4n, holder: 'relay-b:22' }]);
      // B's stream ends (its relay died): A's old token is still refused...
      b.close();
      again.fromRelay('still old');
      // ...and a relay that never claimed (one that left the group and runs alone) writes as before.
      const alone = new FakeStream();
      service.attachStream(alone, 'relay-c:22');
      alone.fromRelay('y');
      expect((await port.far.readExactly(1)).toString()).toBe('y');
      expect(alone.refusals).toEqual([]);
    });

    it('lets the holder carry its token onto a new stream of the same relay, fencing the others again', async () => {
      const { port, service, a, b: other } = await twoRelays();
      a.claim(3n);
      const a2 = new FakeStream();
      service.attachStream(a2, 'relay-a:22');
      a2.claim(3n);
      a2.fromRelay('y');
      expect((await port.far.readExactly(1)).toString()).toBe('y');
      other.fromRelay('z');
      a2.fromRelay('w');
      expect((await port.far.readExactly(1)).toString()).toBe('w');
      expect(other.refusals).toEqual([{ refused: 'input', current: 3n, holder: 'relay-a:22' }]);
      expect(a2.refusals).toEqual([]);
    });

    it('remembers the largest token across a restart of the agent (writer-tokens.ts, a real file)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'writer-tokens-'));
      try {
        const file = join(dir, 'state', 'writer-tokens.json');
        const before = new WriterTokens(file, silentLogger());
        let saved = Promise.resolve();
        const first = await twoRelays(new WriterFence({ onRaise: (fence) => void (saved = before.remember('rtr-1', fence)) }));
        first.a.claim(3n);
        first.b.claim(4n);
        await saved;
        expect((await stat(file)).mode & 0o777).toBe(0o600);
        expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ devices: { 'rtr-1': { token: '4', relay: 'relay-b:22' } } });
        await first.service.stop();
        // The agent restarts; A's relay (frozen while B took over) dials first, with its old token.
        const remembered = await new WriterTokens(file, silentLogger()).load();
        const { port, a, b } = await twoRelays(new WriterFence({ restored: remembered.get('rtr-1')! }));
        a.claim(3n);
        a.fromRelay('stale');
        expect(a.refusals).toEqual([{ refused: 'token', current: 4n, holder: 'relay-b:22' }]);
        // B's relay carries its token onto its new stream and writes.
        b.claim(4n);
        b.fromRelay('b');
        expect((await port.far.readExactly(1)).toString()).toBe('b');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('tells a relay that predates the lease in a status line its people see', async () => {
      const { a, b: old } = await twoRelays();
      old.speaksWriter = false;
      a.claim(1n);
      old.fromRelay('x');
      expect(old.statuses.at(-1)?.message).toBe(
        "input not sent: another relay of the group (relay-a:22) has read-write on this console; this relay is too old to take part in the group's writer lease.",
      );
    });
  });
});
