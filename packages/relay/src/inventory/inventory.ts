import { ConfigError, type ConfigProblem, type RelayConfig, type RelayDeviceConfig } from '@lifeline/shared/core';
import { parseEscapeChar } from '../ssh/escape-handler.js';
import { parsePasswordHash, type ParsedPasswordHash } from '../ssh/password-hash.js';
import { DeviceAccess, type AccessGrant } from './device-access.js';
import { PublicKey } from './public-key.js';
import type { AgentState, LearnedInventory, Role } from './inventory-store.js';
import type { StoredDeviceCheck } from './stored-device-check.js';

/** Where an entry comes from: relay.yaml (the operator's file, which wins) or the inventory store. */
export type EntrySource = 'file' | 'store';

/** A person, with everything a login needs already parsed. */
export interface InventoryUser {
  readonly name: string;
  readonly role: Role;
  readonly source: EntrySource;
  /** The stored `$scrypt$` line, compared by reload's diff; never logged. */
  readonly passwordHash: string | undefined;
  readonly password: ParsedPasswordHash | undefined;
  readonly authorizedKeys: readonly PublicKey[];
  /** The person's escape key (theirs, else the relay's); undefined for `none`. */
  readonly escapeByte: number | undefined;
  readonly grant: AccessGrant;
  readonly access: DeviceAccess;
}

/** A device: its relay.yaml entry (defaults applied) or a stored one, and the key of the agent that serves it. */
export interface InventoryDevice extends RelayDeviceConfig {
  readonly source: EntrySource;
  /** The serving agent's key: relay.yaml `agentKey`, else the device's approved enrolled key. */
  readonly agentFingerprint: string | undefined;
  /**
   * The device's enrolled agent (zero-touch enrolment), when it is the one that serves the device:
   * absent when relay.yaml names the device's `agentKey` (that key wins) or nothing enrolled.
   * `pending` waits for `lifeline-relay approve`; `revoked` is refused.
   */
  readonly enrolment?: { readonly state: AgentState; readonly since: number };
}

/** One agent key, and the devices it serves. */
export interface AgentKeyEntry {
  readonly key: PublicKey;
  readonly fingerprint: string;
  readonly deviceIds: readonly string[];
}

/** The inventory parts of relay.yaml. */
export type InventoryConfig = Pick<RelayConfig, 'users' | 'devices' | 'escapeChar'>;

export interface InventoryInput {
  config: InventoryConfig;
  /** relay.yaml's path, for `file: key: problem` lines. */
  file: string;
  learned: LearnedInventory;
  /** Turns the learned (stored) devices into device entries; needed when there are any (stored-device-check.ts). */
  checkDevice?: StoredDeviceCheck;
  /** The snapshot this one replaces: key lines it already parsed are reused, not parsed again. */
  previous?: Inventory;
}

export const EMPTY_LEARNED: LearnedInventory = Object.freeze({ users: [], devices: [], agents: [] });

/**
 * One immutable snapshot of who may log in and what they reach: relay.yaml merged with what the
 * relay learned (the inventory store); an entry in relay.yaml wins over a stored one of the same
 * name. Agent keys are found by their public blob in a Map, with the parsed key cached, so a
 * login costs one lookup and one signature check, whatever the fleet size. A reload builds a new
 * snapshot and swaps it in (live-inventory.ts); code holding an old one keeps a consistent view.
 */
export class Inventory {
  private readonly userMap = new Map<string, InventoryUser>();
  private readonly deviceMap = new Map<string, InventoryDevice>();
  private readonly agentKeyMap = new Map<string, AgentKeyEntry>();
  /** Checked key lines, handed to the next snapshot. */
  private readonly parsedKeys = new Map<string, PublicKey>();
  /** Things worth a warning that do not stop a start or reload (an id naming no device, a bad stored entry). */
  readonly warnings: string[] = [];

  /** Throws ConfigError listing every unusable key line or password hash in relay.yaml. */
  constructor(input: InventoryInput) {
    const { config, file, learned } = input;
    const problems: ConfigProblem[] = [];
    const cache = input.previous?.parsedKeys;
    const parseKey = (line: string, key: string | undefined): PublicKey | undefined => {
      const known = cache?.get(line) ?? this.parsedKeys.get(line);
      if (known) {
        this.parsedKeys.set(line, known);
        return known;
      }
      try {
        const parsed = new PublicKey(line);
        this.parsedKeys.set(line, parsed);
        return parsed;
      } catch (err) {
        const message = `not a usable public key line (${(err as Error).message})`;
        if (key === undefined) this.warnings.push(`inventory store: ${message}`);
        else problems.push({ file, key, message });
        return undefined;
      }
    };
    const relayEscape = parseEscapeChar(config.escapeChar);

    config.users.forEach((u, i) => {
      let password: ParsedPasswordHash | undefined;
      try {
        password = u.password === undefined ? undefined : parsePasswordHash(u.password);
      } catch (err) {
        problems.push({ file, key: `users[${i}].password`, message: (err as Error).message });
      }
      const keys = u.authorizedKeys.flatMap((line, j) => parseKey(line, `users[${i}].authorizedKeys[${j}]`) ?? []);
      this.addUser({
        name: u.name,
        role: u.role,
        source: 'file',
        passwordHash: u.password,
        password,
        authorizedKeys: keys,
        escapeByte: u.escapeChar === undefined ? relayEscape : parseEscapeChar(u.escapeChar),
        grant: { devices: u.devices, deviceLabels: u.deviceLabels, defaultDevice: u.defaultDevice },
      });
    });
    for (const u of learned.users) {
      if (this.userMap.has(u.name)) continue; // relay.yaml wins
      let password: ParsedPasswordHash | undefined;
      try {
        password = u.passwordHash === undefined ? undefined : parsePasswordHash(u.passwordHash);
      } catch (err) {
        this.warnings.push(`inventory store: user ${u.name}: ${(err as Error).message}`);
        continue;
      }
      this.addUser({
        name: u.name,
        role: u.role,
        source: 'store',
        passwordHash: u.passwordHash,
        password,
        authorizedKeys: u.authorizedKeys.flatMap((line) => parseKey(line, undefined) ?? []),
        escapeByte: relayEscape,
        grant: { devices: u.devices, deviceLabels: u.deviceLabels, defaultDevice: u.defaultDevice },
      });
    }

    const enrolled = new Map(learned.agents.map((a) => [a.deviceId, a]));
    const addDevice = (device: RelayDeviceConfig, source: EntrySource, keyPath: string | undefined) => {
      // relay.yaml's agentKey wins over an enrolled key; a stored device has only the enrolled one.
      const agent = device.agentKey === undefined ? enrolled.get(device.id) : undefined;
      const line = device.agentKey ?? (agent?.state === 'approved' ? agent.publicKey : undefined);
      const key = line === undefined ? undefined : parseKey(line, device.agentKey === undefined ? undefined : keyPath);
      const fingerprint = key ? this.addAgentKey(key, device.id) : undefined;
      const enrolment = agent ? { enrolment: Object.freeze({ state: agent.state, since: agent.since }) } : {};
      this.deviceMap.set(device.id, Object.freeze({ ...device, source, agentFingerprint: fingerprint, ...enrolment }));
    };
    config.devices.forEach((d, i) => addDevice(d, 'file', `devices[${i}].agentKey`));
    for (const d of learned.devices) {
      if (this.deviceMap.has(d.id)) continue;
      if (!input.checkDevice) throw new Error('Inventory: stored devices need checkDevice (loadStoredDeviceCheck)');
      // Defaults (breakMs, ...) come from the schema, as for a device in relay.yaml.
      const checked = input.checkDevice(d);
      if ('problem' in checked) {
        this.warnings.push(`inventory store: device ${d.id}: ${checked.problem}`);
        continue;
      }
      addDevice(checked, 'store', undefined);
    }

    if (problems.length > 0) throw new ConfigError(problems);
    for (const user of this.userMap.values()) {
      for (const id of user.access.namedIds) {
        if (!this.deviceMap.has(id)) this.warnings.push(`${file}: user ${user.name}: device "${id}" does not exist (yet)`);
      }
    }
  }

  private addUser(user: Omit<InventoryUser, 'access'>): void {
    this.userMap.set(user.name, Object.freeze({ ...user, access: new DeviceAccess(user.grant) }));
  }

  private addAgentKey(key: PublicKey, deviceId: string): string {
    const entry = this.agentKeyMap.get(key.id);
    const fingerprint = entry?.fingerprint ?? key.fingerprint;
    this.agentKeyMap.set(key.id, { key, fingerprint, deviceIds: [...(entry?.deviceIds ?? []), deviceId] });
    return fingerprint;
  }

  user(name: string): InventoryUser | undefined {
    return this.userMap.get(name);
  }

  device(id: string): InventoryDevice | undefined {
    return this.deviceMap.get(id);
  }

  get users(): Iterable<InventoryUser> {
    return this.userMap.values();
  }

  get devices(): Iterable<InventoryDevice> {
    return this.deviceMap.values();
  }

  get userCount(): number {
    return this.userMap.size;
  }

  get deviceCount(): number {
    return this.deviceMap.size;
  }

  /** The agent key with this public blob (the wire form a client offers), if any device names it. */
  agentKey(blob: Buffer): AgentKeyEntry | undefined {
    return this.agentKeyMap.get(blob.toString('base64'));
  }

  /** Whether the agent key with this fingerprint serves the device now. */
  agentServes(fingerprint: string, deviceId: string): boolean {
    return this.deviceMap.get(deviceId)?.agentFingerprint === fingerprint;
  }

  /**
   * The device a login reaches: `requested` (from `USER:DEVICE`) or the user's default, if the
   * user may reach it; undefined otherwise. Unknown and forbidden look the same on purpose.
   */
  route(userName: string, requested: string | undefined): InventoryDevice | undefined {
    const user = this.userMap.get(userName);
    if (!user) return undefined;
    const id = requested ?? user.access.defaultFor((d) => this.deviceMap.get(d));
    const device = id === undefined ? undefined : this.deviceMap.get(id);
    return device && user.access.allows(device) ? device : undefined;
  }

  /** Every device the user may reach, sorted by id (the menu, `devices --user`). */
  reachable(userName: string): InventoryDevice[] {
    const user = this.userMap.get(userName);
    if (!user) return [];
    return [...this.deviceMap.values()].filter((d) => user.access.allows(d)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
