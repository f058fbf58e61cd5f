import { describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { DeviceRouter } from './device-router.js';

const device = (id: string) => ({ id, agentKey: 'k', breakMs: 500, maxBreakMs: 3000 });
const router = new DeviceRouter({
  devices: [device('rtr-1'), device('sw-2'), device('secret-3')],
  users: [
    { name: 'alice', authorizedKeys: [], devices: ['rtr-1', 'sw-2'], role: 'engineer' as const },
    { name: 'bob', authorizedKeys: [], devices: ['secret-3'], role: 'engineer' as const },
  ],
});

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('DeviceRouter', () => {
  it('sends a plain USER login to the first device in the list', () => {
    expect(router.resolve('alice', undefined).id).toBe('rtr-1');
  });

  it('sends USER:DEVICE to that device when the user may use it', () => {
    expect(router.resolve('alice', 'sw-2').id).toBe('sw-2');
  });

  it('answers a forbidden device and an unknown device with the same error', () => {
    const forbidden = errorOf(() => router.resolve('alice', 'secret-3'));
    const unknown = errorOf(() => router.resolve('alice', 'no-such'));
    expect(isLifelineError(forbidden, 'ROUTE_DEVICE_UNAVAILABLE')).toBe(true);
    expect(isLifelineError(unknown, 'ROUTE_DEVICE_UNAVAILABLE')).toBe(true);
    expect((forbidden as Error).message.replace('secret-3', 'X')).toBe((unknown as Error).message.replace('no-such', 'X'));
  });

  it('refuses a user it does not know', () => {
    expect(
      isLifelineError(
        errorOf(() => router.resolve('mallory', undefined)),
        'ROUTE_DEVICE_UNAVAILABLE',
      ),
    ).toBe(true);
  });
});
