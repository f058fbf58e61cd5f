import type { Clock, Logger, TimerHandle } from '@lifeline/shared/core';
import type { InventoryStore } from './inventory-store.js';

const HOUR_MS = 60 * 60 * 1000;

/** How often the relay deletes dead enrolment tokens. */
export const TOKEN_PRUNE_EVERY_MS = HOUR_MS;

/**
 * How long an expired or spent token is kept before it is deleted: meanwhile an agent that
 * presents it is told `expired` or `used` (a new file is needed), not `unknown` (a mistyped file).
 */
export const TOKEN_KEEP_MS = 7 * 24 * HOUR_MS;

export interface TokenPruningOptions {
  store: Pick<InventoryStore, 'pruneTokens'>;
  clock: Clock;
  logger: Logger;
  everyMs?: number;
  keepMs?: number;
}

/**
 * Deletes enrolment tokens that expired or were used more than `keepMs` ago: at start, then every
 * `everyMs` after the previous run finished (runs never overlap). A store that cannot be reached
 * (INVENTORY_UNAVAILABLE) is logged (`enrolment.tokens-prune-failed`) and tried again at the next
 * run; a run that deleted tokens logs `enrolment.tokens-pruned` with the count. With several relays
 * on one PostgreSQL store each prunes; deleting what another relay deleted is harmless.
 */
export function startTokenPruning(options: TokenPruningOptions): TimerHandle {
  const { store, clock, logger } = options;
  const everyMs = options.everyMs ?? TOKEN_PRUNE_EVERY_MS;
  const keepMs = options.keepMs ?? TOKEN_KEEP_MS;
  let timer: TimerHandle | undefined;
  let stopped = false;
  const run = async () => {
    try {
      const removed = await store.pruneTokens(clock.now() - keepMs);
      if (removed > 0) logger.info({ event: 'enrolment.tokens-pruned', removed }, `deleted ${removed} expired or used enrolment tokens`);
    } catch (err) {
      logger.warn({ event: 'enrolment.tokens-prune-failed', err }, 'cannot delete old enrolment tokens; trying again later');
    }
    if (!stopped) timer = clock.setTimeout(() => void run(), everyMs);
  };
  void run();
  return {
    cancel: () => {
      stopped = true;
      timer?.cancel();
    },
  };
}
