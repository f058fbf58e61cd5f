import type { RelayUserConfig } from '@lifeline/shared/core';

/**
 * The inventory store: what the relay itself learns at run time (people added with the CLI,
 * devices created by `enrol`, enrolment tokens, enrolled agents), kept apart from relay.yaml,
 * which stays the operator's file and is never rewritten. The live inventory
 * (live-inventory.ts) merges the two; an entry declared in relay.yaml wins.
 *
 * Two implementations pass one contract suite (inventory-store.contract.ts): SQLite through
 * Node.js 24's built-in `node:sqlite` (the embedded default, no server to run) and PostgreSQL
 * (shared by a relay group). Every method may throw LifelineError INVENTORY_UNAVAILABLE when the
 * database cannot be reached; nothing is half-written then (each change is one transaction).
 */
export interface InventoryStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Everything learned, as one consistent snapshot. */
  load(): Promise<LearnedInventory>;
  /** Adds or replaces the person of that name. */
  putUser(user: StoredUser): Promise<void>;
  /** False when there was no such person. */
  removeUser(name: string): Promise<boolean>;
  /** Adds or replaces the device of that id (its enrolled agent and tokens are kept). */
  putDevice(device: StoredDevice): Promise<void>;
  /** Removes the device with its enrolled agent and its tokens; false when there was none. */
  removeDevice(id: string): Promise<boolean>;
  /** Stores a new enrolment token (only its hash). */
  addToken(token: EnrolmentToken): Promise<void>;
  /**
   * Spends a token, atomically: of two relays redeeming the same token at once, one wins. On
   * success binds `publicKey` to the device (replacing an earlier agent), `approved` or `pending`
   * as `approval` says. A key already pending or approved for that device needs no token (an
   * agent polling while it waits for approval): give `tokenHash` undefined.
   */
  redeem(request: RedeemRequest): Promise<RedeemResult>;
  /** Approves a pending agent or revokes any agent of the device; undefined when it has none. */
  setAgentState(deviceId: string, state: 'approved' | 'revoked', now: number): Promise<EnrolledAgent | undefined>;
  /** Deletes tokens that expired or were used before `olderThan` (ms since the epoch). */
  pruneTokens(olderThan: number): Promise<number>;
  /**
   * Calls `listener` after any change, made through this store or (PostgreSQL) by another relay
   * of the group; the listener reloads with `load()`. Returns the unsubscribe function.
   */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

export type Role = RelayUserConfig['role'];

/** A person added with `lifeline-relay user add`; people in relay.yaml are never stored. */
export interface StoredUser {
  name: string;
  /** `$scrypt$...` from hash-password; never the password itself. */
  passwordHash?: string;
  authorizedKeys: string[];
  role: Role;
  /** Device ids and globs (`rtr-tokyo-*`) this person may reach, as in relay.yaml. */
  devices: string[];
  /** Label selectors: a device matching every label of one selector may be reached. */
  deviceLabels: Array<Record<string, string>>;
  /** Device a plain `USER` login reaches; without it, such a login gets the menu. */
  defaultDevice?: string;
}

/** A device created by `enrol` or `device add`; devices in relay.yaml are never stored. */
export interface StoredDevice {
  id: string;
  labels: Record<string, string>;
  description?: string;
}

export type AgentState = 'pending' | 'approved' | 'revoked';

/** The edge agent bound to a device by enrolment: one per device. */
export interface EnrolledAgent {
  deviceId: string;
  /** OpenSSH public key line (`ssh-ed25519 AAAA...`) the agent generated itself. */
  publicKey: string;
  state: AgentState;
  /** When it entered that state (ms since the epoch). */
  since: number;
  /** Address it enrolled from, for the audit log and `devices`. */
  peer: string;
}

export interface EnrolmentToken {
  deviceId: string;
  /** SHA-256 of the token, hex: tokens are random 128-bit secrets, so a fast hash is enough. */
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  /** Who made it (`os:root (sudo by alice)`), for the audit log. */
  createdBy: string;
}

export interface LearnedInventory {
  users: StoredUser[];
  devices: StoredDevice[];
  agents: EnrolledAgent[];
}

export interface RedeemRequest {
  deviceId: string;
  tokenHash: string | undefined;
  publicKey: string;
  peer: string;
  now: number;
  approval: 'auto' | 'manual';
}

export type RedeemResult = { result: 'enrolled' | 'pending'; agent: EnrolledAgent } | { result: 'refused'; reason: RedeemRefusal };

/**
 * Why a token was refused; each has its own agent log line and LED state. `unknown` covers a
 * token that never existed; `other-device` one made for another device; `revoked` a key whose
 * agent was revoked (it must enrol again with a new token and key).
 */
export type RedeemRefusal = 'unknown' | 'expired' | 'used' | 'other-device' | 'revoked';
