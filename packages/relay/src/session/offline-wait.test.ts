import { describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { OfflineWaiters, offlineWaitLine } from './offline-wait.js';

describe('OfflineWaiters', () => {
  it('lets everyone waiting for a device go on when it comes back, and nobody else', async () => {
    const waiters = new OfflineWaiters();
    const log: string[] = [];
    const a = waiters.wait('rtr-1', new AbortController().signal).then(() => log.push('a'));
    const b = waiters.wait('rtr-2', new AbortController().signal).then(() => log.push('b'));
    waiters.wake('rtr-1');
    await a;
    await Promise.resolve();
    expect(log).toEqual(['a']);
    expect(waiters.size).toBe(1);
    waiters.wake('rtr-2');
    await b;
    expect(waiters.size).toBe(0);
  });

  it('ends a wait with ROUTE_DEVICE_OFFLINE when the person gives up', async () => {
    const waiters = new OfflineWaiters();
    const giveUp = new AbortController();
    const waiting = waiters.wait('rtr-1', giveUp.signal).catch((e: unknown) => e);
    giveUp.abort();
    const err = await waiting;
    expect(isLifelineError(err, 'ROUTE_DEVICE_OFFLINE')).toBe(true);
    expect((err as Error).message).toBe('lifeline: gave up waiting for rtr-1.');
    expect(waiters.size).toBe(0);
  });

  it('ends every wait on shutdown', async () => {
    const waiters = new OfflineWaiters();
    const waiting = waiters.wait('rtr-1', new AbortController().signal).catch((e: Error) => e.message);
    waiters.closeAll('the relay is shutting down.');
    expect(await waiting).toBe('lifeline: the relay is shutting down.');
  });
});

describe('offlineWaitLine', () => {
  it('says how long ago the agent was seen and how to give up', () => {
    expect(offlineWaitLine('rtr-tokyo-01', 0, 180_000, 'Ctrl-C or ^] then .')).toBe(
      'rtr-tokyo-01 is offline (agent last seen 3 min ago). Waiting for it to come back; press Ctrl-C or ^] then . to give up.',
    );
  });

  it('says so when the agent was never seen', () => {
    expect(offlineWaitLine('rtr-1', undefined, 5, 'Ctrl-C')).toContain('its agent has not connected since the relay started');
  });
});
