import { describe, expect, it } from 'vitest';
import { isLifelineError, silentLogger } from '@lifeline/shared';
import { FakeClock, capturedLogger } from '@lifeline/shared/testing';
import type { RecordingStatus, SessionRecorder } from '../recording/session-recorder.js';
import type { ConsoleRequest, PartyTerminal, TerminalSize } from './console-broker.js';
import { newPerson, type AttachmentKind, type Person, type Role } from './person.js';
import { DeviceHub, type DeviceConsoleLog, type DeviceHubDeps } from './device-hub.js';
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
  aborted: string | undefined;
  full = false;
  private drainListeners: Array<() => void> = [];
  /** Set by the test once attached, so abort() can detach as the SSH side does. */
  onAbort: (() => void) | undefined;
  /** Bytes written while full: what a stalled client has not taken yet. */
  queued = 0;
  write(data: Buffer): boolean {
    this.output += data.toString('latin1');
    if (this.full) this.queued += data.length;
    return !this.full;
  }
  queuedBytes(): number {
    return this.queued;
  }
  onceDrain(l: () => void): void {
    this.drainListeners.push(l);
  }
  drain(): void {
    this.full = false;
    this.queued = 0;
    for (const l of this.drainListeners.splice(0)) l();
  }
  notice(line: string): void {
    this.notices.push(line);
  }
  end(code: number): void {
    this.exitCode = code;
  }
  abort(line: string): void {
    this.aborted = line;
    this.onAbort?.();
  }
}

class FakeRecorder implements SessionRecorder {
  events: Array<[string, string]> = [];
  closed = false;
  readonly path = '/rec/x.cast';
  output(data: Buffer): void {
    this.events.push(['o', data.toString()]);
  }
  input(data: Buffer): void {
    this.events.push(['i', data.toString()]);
  }
  resize(size: TerminalSize): void {
    this.events.push(['r', `${size.cols}x${size.rows}`]);
  }
  marker(label: string): void {
    this.events.push(['m', label]);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeConsoleLog implements DeviceConsoleLog {
  appended = '';
  notes: string[] = [];
  append(chunk: Buffer): void {
    this.appended += chunk.toString();
  }
  note(text: string): void {
    this.notes.push(text);
  }
  joinScrollback(): Buffer {
    return Buffer.from(`---- earlier ----\r\n${this.appended}\r\n---- live ----\r\n`);
  }
}

const device = { id: 'rtr-1', agentKey: 'k', breakMs: 500, maxBreakMs: 3_000, labels: {} };

/** A person as the login makes one (person.ts); session id `s-USER`. */
const personOf = <K extends AttachmentKind>(user: string, attachAs: K, peer = '127.0.0.1:1'): Person<K> =>
  newPerson({ user, sessionId: `s-${user}`, peer, attachAs });
/** Everyone an engineer, as the router says of a user it does not know. */
const engineers = (): Role => 'engineer';
const xterm: ConsoleRequest['term'] = { name: 'xterm', size: { cols: 80, rows: 24 } };

function setup(options: { recordInput?: boolean; viewerBufferBytes?: number; peopleElsewhere?: DeviceHubDeps['peopleElsewhere'] } = {}) {
  const clock = new FakeClock();
  const recorders: FakeRecorder[] = [];
  const consoleLog = new FakeConsoleLog();
  const roles = new Map<string, Role>();
  const log = capturedLogger();
  const hub = new DeviceHub(device, {
    logger: log.logger,
    roleOf: (person) => roles.get(person.user) ?? 'engineer',
    clock,
    consoleLog,
    recordInput: options.recordInput,
    viewerBufferBytes: options.viewerBufferBytes ?? 262_144,
    ...(options.peopleElsewhere ? { peopleElsewhere: options.peopleElsewhere } : {}),
    recorders: {
      open: () => {
        const r = new FakeRecorder();
        recorders.push(r);
        return r;
      },
    },
  });
  const upstream = new FakeUpstream();
  hub.connectUpstream(upstream);
  /** `role` is what the inventory says from now on (roleOf reads it at each action); `term` undefined: no pty. */
  type Extra = { role?: Role; term?: ConsoleRequest['term'] };
  const attach = async <K extends AttachmentKind>(person: Person<K>, extra: Extra) => {
    if (extra.role) roles.set(person.user, extra.role);
    const terminal = new FakeTerminal();
    const attachment = await hub.attach(person, terminal, 'term' in extra ? extra.term : xterm);
    terminal.onAbort = () => attachment.detach('aborted');
    return { terminal, attachment };
  };
  const join = (user: string, extra: Extra = {}) => attach(personOf(user, 'participant'), extra);
  /** A `USER:DEVICE:watch` login: an ObserverAttachment. */
  const watch = (user: string, extra: Extra = {}) => attach(personOf(user, 'observer'), extra);
  return { clock, hub, upstream, recorders, consoleLog, join, watch, roles, log };
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('DeviceHub: the console path', () => {
  it('refuses to attach while the device is offline', async () => {
    const hub = new DeviceHub(device, { logger: silentLogger(), roleOf: engineers, viewerBufferBytes: 262_144 });
    const error = await errorOf(hub.attach(personOf('alice', 'participant'), new FakeTerminal(), undefined));
    expect(isLifelineError(error, 'ROUTE_DEVICE_OFFLINE')).toBe(true);
    expect((error as Error).message).toContain('rtr-1 is offline');
  });

  it('passes keystrokes to the device and device output to the person', async () => {
    const { upstream, join } = setup();
    const { terminal, attachment } = await join('alice');
    await attachment.input(Buffer.from('show version\r'));
    upstream.emitData('Cisco IOS\r\n');
    expect(Buffer.concat(upstream.written).toString()).toBe('show version\r');
    expect(terminal.output).toContain('Cisco IOS\r\n');
  });

  it('holds keystrokes back until a full upstream drains', async () => {
    const { upstream, join } = setup();
    const { attachment } = await join('alice');
    upstream.full = true;
    let taken = false;
    const pending = attachment.input(Buffer.from('x')).then(() => (taken = true));
    await Promise.resolve();
    expect(taken).toBe(false);
    upstream.drain();
    await pending;
    expect(taken).toBe(true);
  });

  it('pauses the device output while the writer cannot keep up', async () => {
    const { upstream, join } = setup();
    const { terminal } = await join('alice');
    terminal.full = true;
    upstream.emitData('lots');
    expect(upstream.paused).toBe(true);
    terminal.drain();
    expect(upstream.paused).toBe(false);
  });

  it('uses the device default for a break of length 0 and clamps long ones', async () => {
    const { upstream, clock, join } = setup();
    const { attachment } = await join('alice');
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
    const { upstream, clock, join } = setup();
    const { attachment } = await join('alice');
    await attachment.sendBreak(1_000);
    await clock.advance(999);
    expect(upstream.breaks).toEqual([true]);
    await clock.advance(1);
    expect(upstream.breaks).toEqual([true, false]);
  });

  it('tells a person who joins that the console is down, and everyone when it changes', async () => {
    const { upstream, join } = setup();
    const first = await join('alice');
    upstream.emitStatus({ state: 'down', message: 'serial port /dev/ttyUSB0 is not present' });
    const late = await join('bob');
    expect(first.terminal.notices).toContain('serial port /dev/ttyUSB0 is not present');
    expect(late.terminal.notices).toContain('serial port /dev/ttyUSB0 is not present');
  });

  it('keeps people attached while the agent reconnects, and says so', async () => {
    const { hub, upstream, join } = setup();
    const { terminal, attachment } = await join('alice');
    upstream.close();
    expect(hub.online).toBe(false);
    expect(terminal.notices.at(-1)).toMatch(/lost/);
    expect(isLifelineError(await errorOf(attachment.sendBreak(0)), 'ROUTE_DEVICE_OFFLINE')).toBe(true);

    const next = new FakeUpstream();
    hub.connectUpstream(next);
    expect(terminal.notices.at(-1)).toMatch(/back online/);
    await attachment.input(Buffer.from('a'));
    expect(next.written.map(String)).toEqual(['a']);
  });
});

describe('DeviceHub: several people on one device', () => {
  it('gives the first person read-write and tells the next who holds it', async () => {
    const { upstream, join } = setup();
    await join('alice');
    const bob = await join('bob');
    expect(bob.terminal.notices).toContain('alice has read-write; you are read-only.');
    await bob.attachment.input(Buffer.from('reload\r'));
    await bob.attachment.input(Buffer.from('y'));
    expect(upstream.written).toEqual([]);
    // told once, not at every keystroke
    expect(bob.terminal.notices.filter((n) => n.includes('not sent'))).toEqual([
      'you are read-only (alice has read-write); what you type is not sent.',
    ]);
  });

  it('shows every person the same live output', async () => {
    const { upstream, join } = setup();
    const people = await Promise.all(['alice', 'bob', 'carol'].map((u) => join(u)));
    upstream.emitData('%LINK-3-UPDOWN');
    for (const p of people) expect(p.terminal.output).toContain('%LINK-3-UPDOWN');
  });

  it('never lets a :watch login write, even when it is alone: its attachment has no input, BREAK, takeover or power change', async () => {
    const { upstream, join, watch, hub } = setup();
    const sue = await watch('sue', { role: 'supervisor' });
    expect(sue.attachment.kind).toBe('observer');
    for (const member of ['input', 'sendBreak', 'takeOver', 'power']) expect(member in sue.attachment).toBe(false);
    expect(sue.terminal.notices[0]).toMatch(/^watching read-only/);
    expect(hub.snapshot()).toMatchObject({ writer: undefined, viewers: ['sue'] });
    const rights = sue.attachment.rights();
    expect([rights.sendBreak.allowed, rights.takeOver.allowed, rights.powerChange.allowed]).toEqual([false, false, false]);
    const alice = await join('alice');
    await alice.attachment.input(Buffer.from('y'));
    expect(upstream.written.map(String)).toEqual(['y']);
  });

  it('lets a supervisor take over; the previous writer is told and goes on read-only', async () => {
    const { upstream, join, recorders } = setup();
    const alice = await join('alice');
    const sue = await join('sue', { role: 'supervisor' });
    expect(sue.terminal.notices[0]).toContain('takes over');
    await sue.attachment.takeOver();
    expect(alice.terminal.notices).toContain('sue took over read-write; you are now read-only.');
    expect(sue.terminal.notices).toContain('you now have read-write.');
    await alice.attachment.input(Buffer.from('a'));
    await sue.attachment.input(Buffer.from('s'));
    expect(upstream.written.map(String)).toEqual(['s']);
    for (const r of recorders) expect(r.events).toContainEqual(['m', 'takeover: read-write alice -> sue']);
  });

  it('refuses a takeover by an engineer while someone holds read-write, but allows taking it when free', async () => {
    const { upstream, join, watch } = setup();
    const alice = await join('alice');
    const bob = await join('bob');
    const refused = await errorOf(bob.attachment.takeOver());
    expect(isLifelineError(refused, 'SESSION_NOT_PERMITTED')).toBe(true);
    expect((refused as Error).message).toMatch(/alice has read-write.*supervisor or admin/);
    const sue = await watch('sue', { role: 'supervisor' });
    alice.attachment.detach('left');
    // bob inherits read-write as the earliest who did not come only to watch
    expect(bob.terminal.notices.at(-1)).toBe('alice left; you now have read-write.');
    await bob.attachment.input(Buffer.from('b'));
    expect(upstream.written.map(String)).toEqual(['b']);
    expect(sue.terminal.notices.some((n) => n.includes('read-write'))).toBe(true);
  });

  it("reads the role at each action, not the one a person joined with: a reload's promotion or demotion applies at once", async () => {
    const { join, roles } = setup();
    await join('alice');
    const bob = await join('bob');
    expect(isLifelineError(await errorOf(bob.attachment.takeOver()), 'SESSION_NOT_PERMITTED')).toBe(true);
    roles.set('bob', 'supervisor'); // promoted by a reload while attached
    expect(bob.attachment.rights().takeOver.allowed).toBe(true);
    await bob.attachment.takeOver();
    const sue = await join('sue', { role: 'supervisor' });
    roles.set('sue', 'engineer'); // demoted before her next action
    expect(((await errorOf(sue.attachment.takeOver())) as Error).message).toBe(
      'bob has read-write; taking it over needs the supervisor or admin role.',
    );
  });

  it('names the person the same way in every audit line about them (personLogFields), observers as observers', async () => {
    const { join, watch, clock, log } = setup();
    const alice = await join('alice');
    await watch('sue');
    await alice.attachment.sendBreak(0);
    await clock.advance(500);
    alice.attachment.detach('escape disconnect');
    const about = (user: string) => log.lines.filter((l) => l.user === user).map((l) => l.event);
    expect(about('alice')).toEqual(['session.start', 'session.writer', 'console.break', 'session.end']);
    expect(about('sue')).toEqual(['session.start']);
    const aliceFields = { user: 'alice', sessionId: 's-alice', peer: '127.0.0.1:1', attachAs: 'participant' };
    for (const line of log.lines.filter((l) => l.user === 'alice')) expect(line).toMatchObject(aliceFields);
    expect(log.lines.find((l) => l.user === 'sue')).toMatchObject({ sessionId: 's-sue', attachAs: 'observer' });
    // The writer left with only an observer attached: nobody inherits, and the line names nobody.
    const last = log.lines.at(-1)!;
    expect(last).toMatchObject({ event: 'session.writer', reason: 'writer-left' });
    for (const key of ['from', 'to', 'user', 'sessionId']) expect(last).not.toHaveProperty(key);
  });

  it('refuses BREAK from a read-only person', async () => {
    const { upstream, join } = setup();
    await join('alice');
    const bob = await join('bob');
    expect(isLifelineError(await errorOf(bob.attachment.sendBreak(0)), 'SESSION_NOT_PERMITTED')).toBe(true);
    expect(upstream.breaks).toEqual([]);
  });

  it('cuts off a viewer that stops reading, without slowing the writer or the others', async () => {
    const { upstream, join, hub } = setup({ viewerBufferBytes: 10_000 });
    const alice = await join('alice');
    const stalled = await join('bob');
    const other = await join('carol');
    stalled.terminal.full = true; // never drains
    const chunk = 'x'.repeat(1_000);
    for (let i = 0; i < 20; i++) upstream.emitData(chunk);
    expect(upstream.paused).toBe(false);
    expect(stalled.terminal.aborted).toMatch(/could not keep up/);
    expect(alice.terminal.output.length).toBeGreaterThanOrEqual(20_000);
    expect(other.terminal.output.length).toBeGreaterThanOrEqual(20_000);
    expect(hub.partyCount).toBe(2);
  });

  it('keeps a viewer that reads at the pace of the output, however long it lasts', async () => {
    const { upstream, join } = setup({ viewerBufferBytes: 10_000 });
    await join('alice');
    const steady = await join('bob');
    steady.terminal.full = true; // its channel never empties completely, so 'drain' never comes...
    for (let i = 0; i < 200; i++) {
      upstream.emitData('y'.repeat(1_000));
      steady.terminal.queued -= 1_000; // ...but its client takes every chunk as it comes
    }
    expect(steady.terminal.aborted).toBeUndefined();
    expect(steady.terminal.output.length).toBeGreaterThanOrEqual(200_000);
  });

  it('lists who is attached', async () => {
    const { join, watch } = setup();
    await join('alice');
    const sue = await watch('sue', { role: 'supervisor' });
    const lines = await sue.attachment.who();
    expect(lines[0]).toMatch(/^alice: read-write, since/);
    expect(lines[1]).toMatch(/^sue \(you\): watching, since/);
    expect(lines).toHaveLength(2);
  });

  it("in a relay group, lists the people on the group's other relays too, their text made printable", async () => {
    const elsewhere = [
      {
        relay: '10.0.0.2:443',
        people: [
          {
            user: 'bob',
            sessionId: 's-bob',
            peer: '192.0.2.7:50022',
            attachAs: 'participant' as const,
            readWrite: true,
            since: '2026-12-05T06:00:01.000Z',
          },
          {
            user: 'eve\u001b[2J',
            sessionId: 's-eve',
            peer: '192.0.2.8:1',
            attachAs: 'observer' as const,
            readWrite: false,
            since: '2026-12-05T06:00:02.000Z',
          },
        ],
      },
    ];
    const { join } = setup({ peopleElsewhere: async () => elsewhere });
    const alice = await join('alice');
    const lines = await alice.attachment.who();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^alice \(you\): read-write, since/);
    expect(lines[1]).toBe('bob: read-write, since 06:00:01 UTC, from 192.0.2.7:50022, on relay 10.0.0.2:443');
    expect(lines[2]).toMatch(/^eve.*: watching, since 06:00:02 UTC, from 192\.0\.2\.8:1, on relay 10\.0\.0\.2:443$/);
    expect(lines[2]).not.toContain('\u001b');
  });

  it("says so when who is on the group's other relays cannot be known (their database away)", async () => {
    const { join } = setup({ peopleElsewhere: () => Promise.reject(new Error('connection refused')) });
    const alice = await join('alice');
    const lines = await alice.attachment.who();
    expect(lines[0]).toMatch(/^alice \(you\): read-write/);
    expect(lines[1]).toMatch(/unknown now: their database cannot be reached/);
  });

  it('reports live sessions for the admin interface', async () => {
    const { hub, upstream, join } = setup();
    expect(hub.snapshot()).toBeUndefined();
    const alice = await join('alice');
    await join('bob');
    await alice.attachment.input(Buffer.from('abc'));
    upstream.emitData('12345');
    expect(hub.snapshot()).toMatchObject({ deviceId: 'rtr-1', writer: 'alice', viewers: ['bob'], bytesIn: 3, bytesOut: 5 });
  });

  it('lists each person in the snapshot as the audit log names them, with who holds read-write', async () => {
    const { hub, join, watch, clock } = setup();
    await join('alice');
    await clock.advance(1_000);
    await watch('sue');
    const since = (ms: number) => new Date(ms).toISOString();
    expect(hub.snapshot()?.people).toEqual([
      { user: 'alice', sessionId: 's-alice', peer: '127.0.0.1:1', attachAs: 'participant', readWrite: true, since: since(0) },
      { user: 'sue', sessionId: 's-sue', peer: '127.0.0.1:1', attachAs: 'observer', readWrite: false, since: since(1_000) },
    ]);
  });
});

describe('DeviceHub: power control', () => {
  function withPower() {
    const asked: string[] = [];
    const recorders: FakeRecorder[] = [];
    const roles = new Map<string, Role>();
    const hub = new DeviceHub(device, {
      viewerBufferBytes: 262_144,
      logger: silentLogger(),
      roleOf: (person) => roles.get(person.user) ?? 'engineer',
      recorders: { open: () => (recorders.push(new FakeRecorder()), recorders.at(-1)!) },
      power: async (action) => {
        asked.push(action);
        return action === 'status' ? 'Chassis Power is on' : 'Chassis Power Control: Cycle';
      },
    });
    const upstream = new FakeUpstream();
    hub.connectUpstream(upstream);
    const join = (user: string, role: Role) => {
      roles.set(user, role);
      return hub.attach(personOf(user, 'participant'), new FakeTerminal(), undefined);
    };
    return { asked, recorders, join, upstream };
  }

  it('refuses power, and its rights say why, when the agent reports a console without a BMC', async () => {
    const { asked, join, upstream } = withPower();
    upstream.emitStatus({ state: 'up', kind: 'serial', line: '9600 8N1', power: false });
    const sue = await join('sue', 'supervisor');
    expect(sue.rights().powerStatus).toMatchObject({ allowed: false, why: 'not available, this console has no BMC' });
    const err = await errorOf(sue.power('cycle'));
    expect(isLifelineError(err, 'POWER_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toBe('not available, this console has no BMC');
    expect(asked).toEqual([]);
  });

  it('gives the handlers and the rights the same answer for a read-only viewer', async () => {
    const { join } = withPower();
    await join('alice', 'engineer');
    const bob = await join('bob', 'engineer');
    expect(bob.rights().sendBreak).toMatchObject({ allowed: false, why: 'you are read-only (alice has read-write)' });
    expect(((await errorOf(bob.sendBreak(undefined))) as Error).message).toBe('you are read-only (alice has read-write)');
    expect(bob.rights().powerChange).toMatchObject({ allowed: false, why: 'on/off/cycle need the supervisor role.' });
    expect(((await errorOf(bob.power('off'))) as Error).message).toBe('on/off/cycle need the supervisor role.');
  });

  it('lets anyone attached ask for the power status', async () => {
    const { asked, join } = withPower();
    const alice = await join('alice', 'engineer');
    expect(await alice.power('status')).toBe('Chassis Power is on');
    expect(asked).toEqual(['status']);
  });

  it('keeps power changes for supervisors and admins, and marks them in every recording', async () => {
    const { asked, recorders, join } = withPower();
    const alice = await join('alice', 'engineer');
    const sue = await join('sue', 'supervisor');
    expect(isLifelineError(await errorOf(alice.power('cycle')), 'SESSION_NOT_PERMITTED')).toBe(true);
    expect(await sue.power('cycle')).toBe('Chassis Power Control: Cycle');
    expect(asked).toEqual(['cycle']);
    for (const r of recorders) expect(r.events).toContainEqual(['m', 'power cycle by sue: Chassis Power Control: Cycle']);
  });

  it('says so when the device has no power control', async () => {
    const hub = new DeviceHub(device, { logger: silentLogger(), roleOf: () => 'admin', viewerBufferBytes: 262_144 });
    hub.connectUpstream(new FakeUpstream());
    const a = await hub.attach(personOf('sue', 'participant'), new FakeTerminal(), undefined);
    expect(isLifelineError(await errorOf(a.power('status')), 'POWER_UNSUPPORTED')).toBe(true);
  });
});

describe('DeviceHub: recording and the console log', () => {
  it('records output, resizes and markers per person, and input only when asked to', async () => {
    const { upstream, join, recorders, clock } = setup();
    const alice = await join('alice');
    await alice.attachment.input(Buffer.from('secret'));
    upstream.emitData('Router#');
    alice.attachment.resize({ cols: 132, rows: 50 });
    await alice.attachment.sendBreak(0);
    await clock.advance(500);
    alice.attachment.detach('escape disconnect');
    const rec = recorders[0]!;
    expect(rec.events).toEqual([
      ['o', 'Router#'],
      ['r', '132x50'],
      ['m', 'BREAK 500 ms by alice'],
      ['m', 'disconnect: escape disconnect'],
    ]);
    expect(rec.closed).toBe(true);
  });

  it("records the writer's keystrokes when input recording is on", async () => {
    const { join, recorders } = setup({ recordInput: true });
    const alice = await join('alice');
    await alice.attachment.input(Buffer.from('conf t\r'));
    expect(recorders[0]!.events).toContainEqual(['i', 'conf t\r']);
  });

  it('keeps the console log when nobody is attached, and shows recent output to a person who joins', async () => {
    const { upstream, join, consoleLog } = setup();
    upstream.emitData('%SYS-5-RESTART: System restarted');
    expect(consoleLog.appended).toBe('%SYS-5-RESTART: System restarted');
    const alice = await join('alice');
    expect(alice.terminal.output).toContain('---- earlier ----');
    expect(alice.terminal.output).toContain('%SYS-5-RESTART');
    // a session without a pty carries console bytes only: no scrollback
    const script = await join('bob', { term: undefined });
    expect(script.terminal.output).toBe('');
  });

  it("tells the person and the audit log when the recording stops and when it resumes, from the recorder's own status", async () => {
    const clock = new FakeClock(Date.parse('2026-12-03T10:00:00Z'));
    const log = capturedLogger();
    let report: ((status: RecordingStatus) => void) | undefined;
    const hub = new DeviceHub(device, {
      viewerBufferBytes: 262_144,
      logger: log.logger,
      roleOf: engineers,
      clock,
      recorders: {
        open: (start) => {
          report = start.onStatus;
          return new FakeRecorder();
        },
      },
    });
    hub.connectUpstream(new FakeUpstream());
    const terminal = new FakeTerminal();
    await hub.attach(newPerson({ user: 'alice', sessionId: 's', peer: 'p', attachAs: 'participant' }), terminal, undefined);
    report!({ recording: true, lost: 0 });
    expect(terminal.notices).toEqual([]);
    report!({ recording: false, reason: 'the recordings disk is full' });
    report!({ recording: false, reason: 'the recordings disk is full' });
    expect(terminal.notices).toEqual(['this session is NOT being recorded (the recordings disk is full); the console works as usual.']);
    await clock.advance(30_000);
    report!({ recording: true, lost: 12 });
    expect(terminal.notices[1]).toBe(
      'this session is being recorded again; the recording misses some output between 10:00:00 and 10:00:30 UTC.',
    );
    report!({ recording: false, reason: 'the recordings disk does not answer' });
    report!({ recording: true, lost: 0 });
    expect(terminal.notices.slice(2)).toEqual([
      'this session is NOT being recorded (the recordings disk does not answer); the console works as usual.',
      'this session is being recorded again; nothing is missing from the recording.',
    ]);
    const audit = log.lines.filter((l) => String(l.event).startsWith('recording.'));
    expect(audit).toMatchObject([
      {
        event: 'recording.stopped',
        user: 'alice',
        sessionId: 's',
        peer: 'p',
        attachAs: 'participant',
        reason: 'the recordings disk is full',
      },
      { event: 'recording.resumed', user: 'alice', sessionId: 's', lost: 12, stoppedMs: 30_000 },
      { event: 'recording.stopped', reason: 'the recordings disk does not answer' },
      { event: 'recording.resumed', lost: 0 },
    ]);
  });
});
