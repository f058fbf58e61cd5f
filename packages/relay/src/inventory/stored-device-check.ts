import type { RelayDeviceConfig } from '@lifeline/shared/core';
import type { relayDeviceSchema } from '@lifeline/shared';
import { configSchemas } from './config-schemas.js';
import type { StoredDevice } from './inventory-store.js';

/** A stored device as a relay.yaml device entry (the schema's rules and defaults), or why it is not one. */
export type StoredDeviceCheck = (device: StoredDevice) => RelayDeviceConfig | { problem: string };

/** The check made with relay.yaml's device schema. */
export function storedDeviceCheck(schema: typeof relayDeviceSchema): StoredDeviceCheck {
  return (d) => {
    const parsed = schema.safeParse({ id: d.id, labels: d.labels, description: d.description });
    return parsed.success ? parsed.data : { problem: parsed.error.issues[0]?.message ?? 'invalid' };
  };
}

let loading: Promise<StoredDeviceCheck> | undefined;

/** The check, loading the schemas the first time a store holds a device (config-schemas.ts). */
export function loadStoredDeviceCheck(): Promise<StoredDeviceCheck> {
  loading ??= configSchemas().then(({ relayDeviceSchema }) => storedDeviceCheck(relayDeviceSchema));
  return loading;
}
