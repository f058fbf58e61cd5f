import type { RelayDeviceConfig } from '@lifeline/shared/core';
import type { relayDeviceSchema } from '@lifeline/shared';
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

/**
 * The check, loading the config schemas (and zod with them) the first time a store holds a
 * device: a relay whose devices are all in relay.yaml never loads them (issue 11: the schemas
 * cost the daemon 6-13 MiB of RSS; relay.yaml itself is checked by the config reader process).
 */
export function loadStoredDeviceCheck(): Promise<StoredDeviceCheck> {
  loading ??= import('@lifeline/shared').then(({ relayDeviceSchema }) => storedDeviceCheck(relayDeviceSchema));
  return loading;
}
