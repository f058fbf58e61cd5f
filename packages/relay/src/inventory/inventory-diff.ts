import { isDeepStrictEqual } from 'node:util';
import type { RelayConfig } from '@lifeline/shared/core';
import type { Inventory, InventoryDevice, InventoryUser } from './inventory.js';

/** Names only: what a reload added, removed and changed (never a secret, not even a hash). */
export interface NameChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface InventoryDiff {
  users: NameChanges;
  devices: NameChanges;
}

/** relay.yaml keys a reload applies at once; every other top-level key needs a restart. */
export const RELOADABLE_KEYS: ReadonlySet<string> = new Set(['users', 'devices', 'escapeChar']);

/** What two snapshots differ in, by name, sorted. */
export function diffInventories(before: Inventory, after: Inventory): InventoryDiff {
  return {
    users: diffBy(
      mapOf(before.users, (u) => u.name),
      mapOf(after.users, (u) => u.name),
      sameUser,
    ),
    devices: diffBy(
      mapOf(before.devices, (d) => d.id),
      mapOf(after.devices, (d) => d.id),
      sameDevice,
    ),
  };
}

export function isEmptyDiff(diff: InventoryDiff): boolean {
  return [diff.users, diff.devices].every((c) => c.added.length + c.removed.length + c.changed.length === 0);
}

/** Top-level relay.yaml keys outside RELOADABLE_KEYS whose value changed: they need a restart. */
export function keysNeedingRestart(running: RelayConfig, next: RelayConfig): string[] {
  const keys = new Set([...Object.keys(running), ...Object.keys(next)]);
  return [...keys]
    .filter((k) => !RELOADABLE_KEYS.has(k))
    .filter((k) => !isDeepStrictEqual((running as Record<string, unknown>)[k], (next as Record<string, unknown>)[k]))
    .sort();
}

function mapOf<T>(items: Iterable<T>, name: (item: T) => string): Map<string, T> {
  return new Map([...items].map((item) => [name(item), item]));
}

function diffBy<T>(before: Map<string, T>, after: Map<string, T>, same: (a: T, b: T) => boolean): NameChanges {
  const added = [...after.keys()].filter((k) => !before.has(k)).sort();
  const removed = [...before.keys()].filter((k) => !after.has(k)).sort();
  const changed = [...after.entries()].filter(([k, v]) => before.has(k) && !same(before.get(k)!, v)).map(([k]) => k);
  return { added, removed, changed: changed.sort() };
}

function sameUser(a: InventoryUser, b: InventoryUser): boolean {
  return (
    a.role === b.role &&
    a.source === b.source &&
    a.passwordHash === b.passwordHash &&
    a.escapeByte === b.escapeByte &&
    isDeepStrictEqual(a.grant, b.grant) &&
    a.authorizedKeys.length === b.authorizedKeys.length &&
    a.authorizedKeys.every((k, i) => k.id === b.authorizedKeys[i]!.id)
  );
}

function sameDevice(a: InventoryDevice, b: InventoryDevice): boolean {
  // The agent's key by fingerprint: a new comment on the same key is no change.
  const { agentKey: _a, ...restA } = a;
  const { agentKey: _b, ...restB } = b;
  return isDeepStrictEqual(restA, restB);
}
