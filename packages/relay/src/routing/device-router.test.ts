import { describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { testInventoryView } from '../inventory/testing/test-inventory.js';
import { DeviceRouter } from './device-router.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOKtha5twaOwjhUpjHRtSGhMg9bhEFAJDv8RrSi8VBd6';
const router = new DeviceRouter(
  testInventoryView({
    devices: [
      { id: 'rtr-1', agentKey: KEY },
      { id: 'sw-2', agentKey: KEY },
      { id: 'secret-3', agentKey: KEY },
      { id: 'rtr-tokyo-01', labels: { site: 'tokyo' } },
    ],
    users: [
      { name: 'alice', authorizedKeys: [KEY], devices: ['rtr-1', 'sw-2'] },
      { name: 'bob', authorizedKeys: [KEY], devices: ['secret-3'], role: 'supervisor' },
      { name: 'carol', authorizedKeys: [KEY], devices: ['rtr-*'] },
    ],
  }),
);

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

  it('refuses a plain login when the first entry is a glob (no default: the menu)', () => {
    expect(
      isLifelineError(
        errorOf(() => router.resolve('carol', undefined)),
        'ROUTE_DEVICE_UNAVAILABLE',
      ),
    ).toBe(true);
    expect(router.resolve('carol', 'rtr-tokyo-01').id).toBe('rtr-tokyo-01');
  });

  it('lists what a user may reach, sorted, and nothing for a stranger', () => {
    expect(router.reachable('carol').map((d) => d.id)).toEqual(['rtr-1', 'rtr-tokyo-01']);
    expect(router.reachable('mallory')).toEqual([]);
  });

  it('tells the role from the inventory, engineer for a stranger', () => {
    expect(router.role('bob')).toBe('supervisor');
    expect(router.role('mallory')).toBe('engineer');
  });
});
