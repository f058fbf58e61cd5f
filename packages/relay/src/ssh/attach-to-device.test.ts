import { describe, expect, it } from 'vitest';
import { LifelineError } from '@lifeline/shared';
import { capturedLogger } from '@lifeline/shared/testing';
import type { PartyTerminal } from '../session/console-broker.js';
import { newPerson } from '../session/person.js';
import { attachToDevice } from './attach-to-device.js';
import { FakeBroker } from './testing/fake-console.js';

const terminal: PartyTerminal = {
  write: () => true,
  onceDrain: () => undefined,
  queuedBytes: () => 0,
  notice: () => undefined,
  end: () => undefined,
  abort: () => undefined,
};
const alice = newPerson({ user: 'alice', sessionId: 's-1', peer: '127.0.0.1:5000', attachAs: 'participant' });

describe('attachToDevice', () => {
  it('asks the broker for the chosen device with the person (the same value, not a copy) and terminal type, and returns its attachment', async () => {
    const broker = new FakeBroker();
    const { logger } = capturedLogger();
    const term = { name: 'xterm', size: { cols: 80, rows: 24 } };
    const outcome = await attachToDevice(alice, 'router1', { broker, terminal, term, wait: undefined, logger });
    expect(outcome.attached).toBe(true);
    expect(broker.requests).toEqual([{ person: alice, deviceId: 'router1', term }]);
    expect(broker.requests[0]!.person).toBe(alice);
    expect(outcome.attached && outcome.attachment).toBe(broker.attachments[0]);
  });

  it('gives a :watch login an observer attachment', async () => {
    const broker = new FakeBroker();
    const { logger } = capturedLogger();
    const sue = newPerson({ user: 'sue', sessionId: 's-2', peer: '127.0.0.1:5001', attachAs: 'observer' });
    const outcome = await attachToDevice(sue, undefined, {
      broker,
      terminal,
      term: undefined,
      wait: undefined,
      logger,
    });
    expect(outcome.attached && outcome.attachment.kind).toBe('observer');
    expect(broker.requests[0]!.deviceId).toBeUndefined();
  });

  it("returns a routing refusal's own line, logged at info", async () => {
    const broker = new FakeBroker();
    broker.refuse = () => new LifelineError('ROUTE_DEVICE_UNAVAILABLE', 'lifeline: no device "x" for you.');
    const { logger, lines } = capturedLogger();
    const outcome = await attachToDevice(alice, 'x', { broker, terminal, term: undefined, wait: undefined, logger });
    expect(outcome).toEqual({ attached: false, line: 'lifeline: no device "x" for you.' });
    expect(lines.find((l) => l.event === 'session.attach-failed')).toMatchObject({ level: 30, deviceId: 'x' });
  });

  it('hides any other failure behind a generic line and logs it as an error', async () => {
    const broker = new FakeBroker();
    broker.refuse = () => new Error('database password is hunter2');
    const { logger, lines } = capturedLogger();
    const outcome = await attachToDevice(alice, 'router1', { broker, terminal, term: undefined, wait: undefined, logger });
    expect(outcome).toEqual({ attached: false, line: 'lifeline: internal error; the relay log has details.' });
    expect(lines.find((l) => l.event === 'session.attach-failed')).toMatchObject({ level: 50 });
  });
});
