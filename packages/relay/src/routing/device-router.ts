import { LifelineError, type RelayConfig, type RelayDeviceConfig } from '@lifeline/shared';
import type { Role } from '../session/party.js';

/**
 * Decides which device a login reaches. `USER` goes to the user's first device, `USER:DEVICE` to
 * that device if the user may use it. Unknown and forbidden devices give the same answer, so a
 * login cannot be used to probe which devices exist.
 */
export class DeviceRouter {
  private readonly devices: Map<string, RelayDeviceConfig>;
  private readonly userDevices: Map<string, readonly string[]>;
  private readonly roles: Map<string, Role>;

  constructor(config: Pick<RelayConfig, 'users' | 'devices'>) {
    this.devices = new Map(config.devices.map((d) => [d.id, d]));
    this.userDevices = new Map(config.users.map((u) => [u.name, u.devices]));
    this.roles = new Map(config.users.map((u) => [u.name, u.role]));
  }

  /** Throws LifelineError ROUTE_DEVICE_UNAVAILABLE with a message fit to show the person. */
  resolve(user: string, requestedDeviceId: string | undefined): RelayDeviceConfig {
    const allowed = this.userDevices.get(user) ?? [];
    const deviceId = requestedDeviceId ?? allowed[0];
    const device = deviceId !== undefined && allowed.includes(deviceId) ? this.devices.get(deviceId) : undefined;
    if (!device) {
      const named = requestedDeviceId ?? '(default)';
      throw new LifelineError('ROUTE_DEVICE_UNAVAILABLE', `lifeline: device ${named} is not available to ${user}.`);
    }
    return device;
  }

  /** The user's role; `engineer` for anyone not in the config (who cannot get this far anyway). */
  role(user: string): Role {
    return this.roles.get(user) ?? 'engineer';
  }

  device(deviceId: string): RelayDeviceConfig | undefined {
    return this.devices.get(deviceId);
  }
}
