import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LifelineError } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import type { ConsoleRequest, PartyTerminal } from '../session/console-broker.js';
import { newPerson } from '../session/person.js';
import { attachOrChoose } from './device-menu.js';
import { FakeBroker } from './testing/fake-console.js';

/** A fake terminal stream: what the relay writes, collected; what the person types, pushed into `keys`. */
function fakeTerminal() {
  let out = '';
  const notices: string[] = [];
  const terminal: PartyTerminal = {
    write: (data) => ((out += data.toString('utf8')), true),
    onceDrain: () => undefined,
    queuedBytes: () => 0,
    notice: (line) => notices.push(line),
    end: () => undefined,
    abort: () => undefined,
  };
  const keys = new PassThrough();
  return { terminal, keys, output: () => out, notices };
}

const unavailable = (r: ConsoleRequest) =>
  new LifelineError('ROUTE_DEVICE_UNAVAILABLE', `lifeline: device ${r.deviceId ?? '(default)'} is not available to ${r.person.user}.`);

function setup(choices = 3) {
  const broker = new FakeBroker();
  broker.choices = Array.from({ length: choices }, (_, i) => ({
    id: `rtr-${String(i + 1).padStart(3, '0')}`,
    description: undefined,
    online: i % 2 === 0,
  }));
  const allowed = new Set(broker.choices.map((c) => c.id));
  broker.refuse = (r) => (r.deviceId !== undefined && allowed.has(r.deviceId) ? undefined : unavailable(r));
  const t = fakeTerminal();
  const request: ConsoleRequest = {
    person: newPerson({ user: 'carol', sessionId: 's', peer: 'p', attachAs: 'participant' }),
    deviceId: undefined,
    term: { name: 'xterm', size: { cols: 80, rows: 24 } },
  };
  const clock = new FakeClock();
  const attach = (req: ConsoleRequest = request) =>
    attachOrChoose({ broker, request: req, terminal: t.terminal, wait: undefined, input: t.keys, clock, idleMs: 1_000 });
  const until = (text: string) => waitUntil(() => t.output().includes(text));
  return { broker, ...t, attach, request, clock, until };
}

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition not met');
}

describe('the device menu', () => {
  it('lists the reachable devices with online/offline and attaches by number', async () => {
    const s = setup();
    const attached = s.attach();
    await s.until('Device (number');
    expect(s.output()).toContain('Devices you may reach (3):');
    expect(s.output()).toMatch(/1 {2}rtr-001 {2}online/);
    expect(s.output()).toMatch(/2 {2}rtr-002 {2}offline/);
    s.keys.write('2\r');
    expect((await attached).deviceId).toBe('rtr-002');
  });

  it('attaches by name, with backspace and arrow keys handled by its line editor', async () => {
    const s = setup();
    const attached = s.attach();
    await s.until('Device (number');
    s.keys.write('rtr-00x\x7f\x1b[A3\r');
    expect((await attached).deviceId).toBe('rtr-003');
    expect(s.output()).toContain('rtr-00x\b \b3');
  });

  it('says a named unknown or forbidden device is not available, in the same words, then offers the list', async () => {
    const s = setup();
    const attached = s.attach({ ...s.request, deviceId: 'secret-9' });
    await s.until('Device (number');
    expect(s.notices).toEqual(['device secret-9 is not available to carol.']);
    s.keys.write('secret-9\r');
    await s.until('no device of yours is "secret-9"');
    s.keys.write('1\r');
    expect((await attached).deviceId).toBe('rtr-001');
  });

  it('caps a long list and narrows it by a typed name prefix', async () => {
    const s = setup(120);
    const attached = s.attach();
    await s.until('Device (number');
    expect(s.output()).toContain('... 100 more: type the start of a name to narrow the list.');
    expect(s.output()).not.toContain('rtr-021');
    s.keys.write('rtr-11\r');
    await s.until('Devices starting with "rtr-11" (10 of 120):');
    s.keys.write('3\r');
    expect((await attached).deviceId).toBe('rtr-112');
  });

  it('gives up on Ctrl-C and after the idle time, with the refusal', async () => {
    const s = setup();
    const first = s.attach();
    await s.until('Device (number');
    s.keys.write('\x03');
    await expect(first).rejects.toThrow('no device chosen');
    const second = s.attach();
    await waitUntil(() => s.output().split('Device (number').length === 3);
    await s.clock.advance(1_000);
    await expect(second).rejects.toThrow('no device chosen');
  });

  it('is not offered without a pty or with nothing to offer: the refusal stays one line', async () => {
    const s = setup();
    await expect(s.attach({ ...s.request, term: undefined })).rejects.toThrow('device (default) is not available to carol.');
    s.broker.choices = [];
    await expect(s.attach()).rejects.toThrow('device (default) is not available to carol.');
    expect(s.output()).toBe('');
  });
});
