import { NAME_PATTERN, type Logger, type RelayDeviceConfig, type RelayUserConfig } from '@lifeline/shared/core';
import { configSchemas } from './config-schemas.js';
import type { InventoryStore, Role, StoredDevice, StoredUser } from './inventory-store.js';

/** What relay.yaml declares right now: those entries are the operator's file's, never the store's. */
export interface DeclaredEntries {
  file: string;
  users: ReadonlySet<string>;
  devices: ReadonlySet<string>;
}

/** A person as `lifeline-relay user list` shows them; never the hash. */
export interface UserListing {
  name: string;
  role: Role;
  devices: string[];
  password: boolean;
  keys: number;
  source: 'relay.yaml' | 'store';
}

export interface DeviceListing {
  id: string;
  labels: Record<string, string>;
  description?: string;
  source: 'relay.yaml' | 'store';
  agent?: string;
}

export interface InventoryAdminOptions {
  store: InventoryStore;
  /** Asked at each request: after a reload, the current relay.yaml. */
  declared: () => DeclaredEntries & { listUsers: UserListing[]; listDevices: DeviceListing[] };
  logger: Logger;
}

/**
 * The admin socket's `user` and `device` commands (`lifeline-relay user|device ...`): changes to
 * the store, checked as relay.yaml entries are checked (relayUserSchema, relayDeviceSchema), with
 * entries declared in relay.yaml refused (edit relay.yaml instead). The CLI hashes a password
 * before it sends it: the relay receives only the `$scrypt$` hash. Each change is an audit line
 * naming who made it (`by`, the OS caller). A handler throws an Error whose message the CLI shows.
 */
export function inventoryAdminHandlers(options: InventoryAdminOptions): {
  user: (request: Record<string, unknown>) => Promise<unknown>;
  device: (request: Record<string, unknown>) => Promise<unknown>;
} {
  const { store, logger } = options;
  const audit = (event: string, fields: Record<string, unknown>, by: unknown) =>
    logger.info({ event, ...fields, by: typeof by === 'string' ? by : undefined }, event);
  const refuseDeclared = (kind: 'user' | 'device', name: string) => {
    const declared = options.declared();
    if ((kind === 'user' ? declared.users : declared.devices).has(name))
      throw new Error(`${kind} ${name} is declared in ${declared.file}: edit ${declared.file} (and reload) to change it`);
  };
  const storedUser = async (name: string) => {
    refuseDeclared('user', name);
    const user = (await store.load()).users.find((u) => u.name === name);
    if (!user) throw new Error(`no user ${name} (lifeline-relay user list shows who there is)`);
    return user;
  };
  const storedDevice = async (id: string) => {
    refuseDeclared('device', id);
    const device = (await store.load()).devices.find((d) => d.id === id);
    if (!device) throw new Error(`no device ${id} added with lifeline-relay device add`);
    return device;
  };

  return {
    async user(request) {
      const { action, by } = request;
      switch (action) {
        case 'list': {
          const learned = await store.load();
          const declared = options.declared();
          const stored: UserListing[] = learned.users
            .filter((u) => !declared.users.has(u.name))
            .map((u) => ({
              name: u.name,
              role: u.role,
              devices: u.devices,
              password: u.passwordHash !== undefined,
              keys: u.authorizedKeys.length,
              source: 'store',
            }));
          return [...declared.listUsers, ...stored].sort((a, b) => a.name.localeCompare(b.name));
        }
        case 'add': {
          const user = await checkedUser(request.user);
          refuseDeclared('user', user.name);
          if ((await store.load()).users.some((u) => u.name === user.name))
            throw new Error(`user ${user.name} exists already (use passwd, set-role, or remove it first)`);
          await store.putUser(user);
          audit('inventory.user-added', { user: user.name, role: user.role }, by);
          return `added ${user.name}`;
        }
        case 'remove': {
          const name = text(request.name, 'name');
          refuseDeclared('user', name);
          if (!(await store.removeUser(name))) throw new Error(`no user ${name} (lifeline-relay user list shows who there is)`);
          audit('inventory.user-removed', { user: name }, by);
          return `removed ${name}`;
        }
        case 'passwd': {
          const user = await storedUser(text(request.name, 'name'));
          const next = await checkedUser({ ...toEntry(user), password: request.passwordHash });
          await store.putUser({ ...user, passwordHash: next.passwordHash });
          audit('inventory.user-password', { user: user.name }, by);
          return `password of ${user.name} changed`;
        }
        case 'set-role': {
          const user = await storedUser(text(request.name, 'name'));
          const next = await checkedUser({ ...toEntry(user), role: request.role });
          await store.putUser({ ...user, role: next.role });
          audit('inventory.user-role', { user: user.name, role: next.role }, by);
          return `${user.name} is now ${next.role}`;
        }
        default:
          throw new Error('user needs an action: add, remove, passwd, list or set-role');
      }
    },

    async device(request) {
      const { action, by } = request;
      switch (action) {
        case 'list': {
          const learned = await store.load();
          const declared = options.declared();
          const agents = new Map(learned.agents.map((a) => [a.deviceId, a.state]));
          const stored: DeviceListing[] = learned.devices
            .filter((d) => !declared.devices.has(d.id))
            .map((d) => ({ ...d, source: 'store', ...(agents.has(d.id) ? { agent: agents.get(d.id) } : {}) }));
          return [...declared.listDevices, ...stored].sort((a, b) => a.id.localeCompare(b.id));
        }
        case 'add': {
          const device = await checkedDevice(request.device);
          refuseDeclared('device', device.id);
          if ((await store.load()).devices.some((d) => d.id === device.id)) throw new Error(`device ${device.id} exists already`);
          await store.putDevice(device);
          audit('inventory.device-added', { deviceId: device.id }, by);
          return `added ${device.id}`;
        }
        case 'remove': {
          const id = text(request.id, 'id');
          refuseDeclared('device', id);
          if (!(await store.removeDevice(id))) throw new Error(`no device ${id} added with lifeline-relay device add`);
          audit('inventory.device-removed', { deviceId: id }, by);
          return `removed ${id}`;
        }
        case 'label': {
          const device = await storedDevice(text(request.id, 'id'));
          const changes = request.labels as Record<string, unknown> | undefined;
          if (typeof changes !== 'object' || changes === null) throw new Error('label needs labels');
          const labels = { ...device.labels };
          for (const [key, value] of Object.entries(changes)) {
            if (value === null) delete labels[key];
            else labels[key] = text(value, `label ${key}`);
          }
          const next = await checkedDevice({ ...device, labels });
          await store.putDevice(next);
          audit('inventory.device-labels', { deviceId: device.id, labels: next.labels }, by);
          return `${device.id}: ${
            Object.entries(next.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ') || 'no labels'
          }`;
        }
        default:
          throw new Error('device needs an action: add, remove, label or list');
      }
    },
  };
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`${what} must be given`);
  return value;
}

/** A stored user as the relay.yaml entry it is checked as. */
function toEntry(user: StoredUser): Record<string, unknown> {
  return { name: user.name, password: user.passwordHash, authorizedKeys: user.authorizedKeys, devices: user.devices, role: user.role };
}

/** Checked by the schema relay.yaml's users are checked by; the first problem is the message. */
async function checkedUser(value: unknown): Promise<StoredUser> {
  const { relayUserSchema } = await configSchemas();
  const entry = { ...(value as Record<string, unknown>) };
  const parsed = relayUserSchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || 'user'}: ${issue.message}`);
  }
  const u = parsed.data;
  if (!u.password && u.authorizedKeys.length === 0) throw new Error(`${u.name} needs a password or at least one key`);
  const extra = parsed.data as { deviceLabels?: Array<Record<string, string>>; defaultDevice?: string };
  return {
    name: u.name,
    ...(u.password !== undefined ? { passwordHash: u.password } : {}),
    authorizedKeys: u.authorizedKeys,
    role: u.role,
    devices: u.devices,
    deviceLabels: extra.deviceLabels ?? [],
    ...(extra.defaultDevice !== undefined ? { defaultDevice: extra.defaultDevice } : {}),
  };
}

/** Checked as relay.yaml's devices are (the id, labels when the schema knows them, description). */
async function checkedDevice(value: unknown): Promise<StoredDevice> {
  const { relayDeviceSchema } = await configSchemas();
  const entry = value as Partial<StoredDevice> | null;
  if (typeof entry !== 'object' || entry === null) throw new Error('device must be given');
  const id = text(entry.id, 'id');
  if (!NAME_PATTERN.test(id)) throw new Error(`id: ${id} is not a device id (letters, digits and . _ @ - only)`);
  const shape = relayDeviceSchema.shape as Record<
    string,
    { safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ message: string }> } } }
  >;
  const labels = entry.labels ?? {};
  if (shape.labels) {
    const parsed = shape.labels.safeParse(labels);
    if (!parsed.success) throw new Error(`labels: ${parsed.error!.issues[0]!.message}`);
  }
  return { id, labels, ...(entry.description !== undefined ? { description: String(entry.description) } : {}) };
}

/**
 * relay.yaml's entries for inventoryAdminHandlers' `declared`. Give it the running configuration
 * at each request (LiveInventory.config, replaced by every reload), never the one the relay
 * started with: a user added to relay.yaml by a reload is then the file's, not the store's.
 */
export function declaredInConfig(
  config: { users: readonly RelayUserConfig[]; devices: readonly RelayDeviceConfig[] },
  file: string,
): DeclaredEntries & { listUsers: UserListing[]; listDevices: DeviceListing[] } {
  return {
    file,
    users: new Set(config.users.map((u) => u.name)),
    devices: new Set(config.devices.map((d) => d.id)),
    listUsers: config.users.map((u) => ({
      name: u.name,
      role: u.role,
      devices: [...u.devices],
      password: u.password !== undefined,
      keys: u.authorizedKeys.length,
      source: 'relay.yaml',
    })),
    listDevices: config.devices.map((d) => ({
      id: d.id,
      labels: (d as { labels?: Record<string, string> }).labels ?? {},
      ...(d.description !== undefined ? { description: d.description } : {}),
      source: 'relay.yaml',
    })),
  };
}
