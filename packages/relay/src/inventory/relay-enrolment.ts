import { join } from 'node:path';
import { LifelineError, type Clock, type Logger, type RelayConfig } from '@lifeline/shared/core';
import type { AdminHandler } from '../admin/admin-server.js';
import type { LoginThrottle } from '../ssh/login-throttle.js';
import type { TunnelRegistrar } from '../tunnel/agent-tunnel.js';
import { EnrolmentAdmin } from './enrolment-admin.js';
import { EnrolmentService } from './enrolment-service.js';
import { parseTokenTtl } from './enrolment-token.js';
import type { InventoryStore } from './inventory-store.js';
import { SqliteInventoryStore } from './sqlite-inventory-store.js';
import { startTokenPruning } from './token-pruning.js';

/** The inventory database in the relay's state folder. */
export const INVENTORY_DB = 'inventory.db';

export interface RelayEnrolment {
  store: InventoryStore;
  /** `enrol`, `approve`, `revoke`, `enrolled` admin commands. */
  handlers: Record<string, AdminHandler>;
  close(): Promise<void>;
}

/**
 * The relay's enrolment side, in one place so relay.ts wires it with two lines: the store (the
 * relay's, or its own SQLite file in stateDir), the admin commands, and the hourly deletion of
 * dead tokens (token-pruning.ts, stopped by `close()`). Approved agents' keys reach the
 * authenticator through the live inventory's snapshot, which follows the store.
 * Throws INVENTORY_UNAVAILABLE when the database cannot be opened.
 */
export async function startEnrolment(options: {
  stateDir: string;
  /** The relay's store (relay.yaml `store`); without one, enrolment opens its own SQLite file in stateDir. */
  store?: InventoryStore;
  agents: TunnelRegistrar;
  /** Written into enrolment files: the relay's host key, and `enrolment` from relay.yaml. */
  hostKeyFingerprint: string;
  config: RelayConfig['enrolment'];
  clock: Clock;
  logger: Logger;
}): Promise<RelayEnrolment> {
  const owned = options.store === undefined;
  const store = options.store ?? SqliteInventoryStore.open(join(options.stateDir, INVENTORY_DB));
  const logger = options.logger.child({ component: 'enrolment' });
  const admin = new EnrolmentAdmin({
    store,
    now: () => options.clock.now(),
    closeTunnel: (deviceId, reason) => options.agents.current(deviceId)?.close(reason),
    logger,
  });
  // Expired and spent tokens are deleted a week later, hourly (token-pruning.ts).
  const pruning = startTokenPruning({ store, clock: options.clock, logger });
  const text = (request: Record<string, unknown>, key: string): string => {
    const value = request[key];
    if (typeof value !== 'string' || value === '') throw new Error(`${key} missing`);
    return value;
  };
  const by = (request: Record<string, unknown>) => (typeof request.by === 'string' ? request.by : 'unknown');
  return {
    store,
    handlers: {
      enrol: async (r) => {
        const ttl = typeof r.ttl === 'string' ? r.ttl : options.config.tokenTtl;
        const ttlMs = parseTokenTtl(ttl);
        if (ttlMs === undefined) throw new Error(`--ttl ${ttl} is not a duration like 30m, 24h or 7d`);
        const labels = labelsOf(r.labels);
        const answer = await admin.enrol(text(r, 'device'), ttlMs, labels, by(r));
        return { ...answer, hostKey: options.hostKeyFingerprint, relayAddress: options.config.relayAddress, status: options.config.status };
      },
      approve: (r) => admin.approve(text(r, 'device'), by(r)),
      revoke: (r) => admin.revoke(text(r, 'device'), by(r)),
      enrolled: () => admin.agents(),
    },
    async close() {
      pruning.cancel();
      if (owned) await store.close();
    },
  };
}

/** `{site: "tokyo"}` from the request; anything else is refused. */
function labelsOf(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('labels must be name=value pairs');
  const labels = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_PATTERN.test(k) || typeof v !== 'string' || !LABEL_PATTERN.test(v)) throw new Error(`label ${k} is not name=value`);
  }
  return labels as Record<string, string>;
}

const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The enrolment service over a store that is opened after the bind (refuses until then). */
export function enrolmentService(
  store: () => InventoryStore | undefined,
  approval: 'auto' | 'manual',
  throttle: LoginThrottle,
  clock: Clock,
  logger: Logger,
): EnrolmentService {
  return new EnrolmentService({
    store: {
      redeem: (request) => {
        const s = store();
        return s ? s.redeem(request) : Promise.reject(new LifelineError('INVENTORY_UNAVAILABLE', 'the inventory is not open yet'));
      },
    },
    approval,
    throttle,
    now: () => clock.now(),
    logger,
  });
}
