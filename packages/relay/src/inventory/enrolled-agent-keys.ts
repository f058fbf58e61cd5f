import { parsePublicKeyLine, type Logger } from '@lifeline/shared';
import type { ParsedKey } from 'ssh2';
import type { InventoryStore } from './inventory-store.js';

/** One approved enrolled agent's key, as the authenticator matches agent logins against it. */
export interface EnrolledAgentKey {
  deviceId: string;
  key: ParsedKey;
}

/**
 * The bridge from enrolment to agent logins until the live inventory's snapshot carries enrolled
 * agents: keeps the approved agents' keys from the store, reloaded on every change, so a Pi that
 * enrolled (or was approved) logs in as `lifeline-agent` at once and a revoked one is refused at
 * its next login. `keys()` is synchronous for the authenticator; it is empty until the first load.
 */
export class EnrolledAgentKeys {
  private current: EnrolledAgentKey[] = [];
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly store: InventoryStore,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = store.onChange(() => void this.reload());
  }

  static async watch(store: InventoryStore, logger: Logger): Promise<EnrolledAgentKeys> {
    const keys = new EnrolledAgentKeys(store, logger);
    await keys.reload();
    return keys;
  }

  keys(): readonly EnrolledAgentKey[] {
    return this.current;
  }

  stop(): void {
    this.unsubscribe();
  }

  async reload(): Promise<void> {
    try {
      const { agents } = await this.store.load();
      this.current = agents
        .filter((a) => a.state === 'approved')
        .map((a) => ({ deviceId: a.deviceId, key: parsePublicKeyLine(a.publicKey) }));
    } catch (err) {
      // The last loaded keys stay: agents already enrolled keep logging in.
      this.logger.error({ event: 'inventory.reload-failed', err }, 'could not reload enrolled agents; keeping the last ones');
    }
  }
}
