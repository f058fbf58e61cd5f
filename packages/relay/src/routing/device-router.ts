import { LifelineError } from '@lifeline/shared/core';
import type { InventoryDevice } from '../inventory/inventory.js';
import type { InventoryView } from '../inventory/live-inventory.js';
import type { Role } from '../session/person.js';

/**
 * Decides which device a login reaches, from the current inventory at each call (a reload applies
 * to the next login): `USER` goes to the user's default device, `USER:DEVICE` to that device if
 * the user may reach it (by id, glob or labels: inventory/device-access.ts). Unknown and
 * forbidden devices give the same answer, so a login cannot be used to probe which devices exist.
 */
export class DeviceRouter {
  constructor(private readonly inventory: InventoryView) {}

  /**
   * Throws LifelineError ROUTE_DEVICE_UNAVAILABLE with a message fit to show the person (also for
   * a plain `USER` login with no default device: the SSH front offers the menu then).
   */
  resolve(user: string, requestedDeviceId: string | undefined): InventoryDevice {
    const device = this.inventory.current().route(user, requestedDeviceId);
    if (!device) {
      const named = requestedDeviceId ?? '(default)';
      throw new LifelineError('ROUTE_DEVICE_UNAVAILABLE', `lifeline: device ${named} is not available to ${user}.`);
    }
    return device;
  }

  /** The devices the user may reach now, sorted by id; empty for a user it does not know. */
  reachable(user: string): InventoryDevice[] {
    return this.inventory.current().reachable(user);
  }

  /** The user's role now; `engineer` for anyone not in the inventory (removed: the least rights). */
  role(user: string): Role {
    return this.inventory.current().user(user)?.role ?? 'engineer';
  }

  device(deviceId: string): InventoryDevice | undefined {
    return this.inventory.current().device(deviceId);
  }
}
