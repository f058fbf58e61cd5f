import { relayConfigSchema, relayDeviceSchema } from '@lifeline/shared';
import { EMPTY_LEARNED, Inventory } from '../inventory.js';
import type { LearnedInventory } from '../inventory-store.js';
import { storedDeviceCheck } from '../stored-device-check.js';
import { fixedInventory, type InventoryView } from '../live-inventory.js';

/** relay.yaml's inventory keys as a test writes them: defaults filled in by the schema, as the loader does. */
export interface TestInventoryInput {
  users?: unknown[];
  devices?: unknown[];
  escapeChar?: string;
}

/** A snapshot from relay.yaml-shaped entries (validated by the real schema) and an optional learned inventory. */
export function testInventory(input: TestInventoryInput, learned: LearnedInventory = EMPTY_LEARNED, previous?: Inventory): Inventory {
  const config = relayConfigSchema.parse({ users: input.users ?? [], devices: input.devices ?? [], escapeChar: input.escapeChar });
  return new Inventory({ config, file: 'relay.yaml', learned, previous, checkDevice: storedDeviceCheck(relayDeviceSchema) });
}

/** The same, as the view the authenticator, the router and the broker read. */
export function testInventoryView(input: TestInventoryInput, learned?: LearnedInventory): InventoryView {
  return fixedInventory(testInventory(input, learned));
}
