import { loadConfigFile, type Logger, type RelayConfig } from '@lifeline/shared/core';
import { Inventory, EMPTY_LEARNED } from './inventory.js';
import { diffInventories, keysNeedingRestart, type InventoryDiff } from './inventory-diff.js';
import type { InventoryStore, LearnedInventory } from './inventory-store.js';
import { loadStoredDeviceCheck } from './stored-device-check.js';

/**
 * What readers of the inventory hold: the authenticator, the router, agent connections and the
 * admin commands ask it for the current snapshot at each use, never keep one from the start.
 */
export interface InventoryView {
  current(): Inventory;
}

/** One applied change, for the code that acts on it (reload-effects.ts). */
export interface InventoryChange {
  before: Inventory;
  after: Inventory;
  diff: InventoryDiff;
}

/** What `lifeline-relay reload` reports. */
export interface ReloadSummary extends InventoryDiff {
  /** relay.yaml keys whose change was not applied: they need a restart. */
  restartNeeded: string[];
  warnings: string[];
}

export interface LiveInventoryOptions {
  /** relay.yaml, read again on every reload. */
  file: string;
  /** The configuration the relay started with (already validated). */
  config: RelayConfig;
  /** The relay's inventory store, when there is one; without it the learned inventory is empty. */
  store?: Pick<InventoryStore, 'load' | 'onChange'>;
  /**
   * A snapshot already built from this config (the start's preflight check): its parsed key lines
   * are reused, so a start with 10,000 agent keys does not parse each of them twice.
   */
  previous?: Inventory;
  logger: Logger;
}

/**
 * The relay's inventory, live: one current snapshot (inventory.ts) replaced as a whole by
 * `reload()` (relay.yaml changed: SIGHUP or `lifeline-relay reload`) or when the store says it
 * changed. A new file is validated in full before anything changes; a bad one is refused and the
 * running snapshot stays. Listeners (reload-effects.ts) get each applied change once.
 */
export class LiveInventory implements InventoryView {
  private snapshot: Inventory;
  private running: RelayConfig;
  private learned: LearnedInventory;
  private readonly listeners: Array<(change: InventoryChange) => void> = [];
  /** Reloads one after another: a SIGHUP during a CLI reload waits its turn. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly logger: Logger;
  private store: Pick<InventoryStore, 'load' | 'onChange'> | undefined;

  /** Throws ConfigError for unusable key lines or password hashes in relay.yaml. */
  constructor(private readonly options: LiveInventoryOptions) {
    this.logger = options.logger.child({ component: 'inventory' });
    this.running = options.config;
    this.learned = EMPTY_LEARNED;
    this.snapshot = new Inventory({
      config: options.config,
      file: options.file,
      learned: this.learned,
      ...(options.previous ? { previous: options.previous } : {}),
    });
    this.warn(this.snapshot.warnings);
    if (options.store) this.follow(options.store);
  }

  /**
   * The store, opened after the relay bound its port (it writes into the state folder): what it
   * holds applies now (as a store change), and again whenever it changes.
   */
  async attachStore(store: Pick<InventoryStore, 'load' | 'onChange'>): Promise<void> {
    this.follow(store);
    await this.refreshLearned();
  }

  private follow(store: Pick<InventoryStore, 'load' | 'onChange'>): void {
    this.store = store;
    store.onChange(() => void this.refreshLearned().catch((err: unknown) => this.storeFailed(err)));
  }

  current(): Inventory {
    return this.snapshot;
  }

  /** The running relay.yaml: a reload replaces users, devices and escapeChar; the rest stays as started. */
  get config(): RelayConfig {
    return this.running;
  }

  /** Calls `listener` after each applied change. */
  onChange(listener: (change: InventoryChange) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Reads relay.yaml again and applies it. Throws ConfigError (`file: key: problem` lines) or
   * CONFIG_UNREADABLE, and then changes nothing. Keys that need a restart are logged and kept.
   */
  reload(): Promise<ReloadSummary> {
    const next = this.queue.then(() => this.reloadNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(): Promise<ReloadSummary> {
    let config: RelayConfig;
    let inventory: Inventory;
    try {
      config = await loadConfigFile(this.options.file, 'relay');
      const learned = this.store ? await this.store.load() : this.learned;
      inventory = await this.build(config, learned);
      this.learned = learned;
    } catch (err) {
      this.logger.warn(
        { event: 'config.reload-refused', problems: (err as Error).message.split('\n') },
        'relay.yaml refused; the running configuration stays',
      );
      throw err;
    }
    const restartNeeded = keysNeedingRestart(this.running, config);
    // Only the reloadable keys change; the rest keeps its running value until a restart.
    this.running = { ...this.running, users: config.users, devices: config.devices, escapeChar: config.escapeChar };
    const diff = this.swap(inventory, 'relay.yaml');
    if (restartNeeded.length > 0) {
      this.logger.warn(
        { event: 'config.restart-needed', keys: restartNeeded },
        `relay.yaml: ${restartNeeded.join(', ')} changed; these apply only after a restart (the rest was applied)`,
      );
    }
    return { ...diff, restartNeeded, warnings: inventory.warnings };
  }

  /** The store changed (another relay, the CLI): rebuild with the same relay.yaml. */
  private async refreshLearned(): Promise<void> {
    await (this.queue = this.queue.then(async () => {
      const learned = this.store ? await this.store.load() : this.learned;
      const inventory = await this.build(this.running, learned);
      this.learned = learned;
      this.swap(inventory, 'store');
    }));
  }

  /** The next snapshot; the device schema is loaded only when the store holds devices. */
  private async build(config: RelayConfig, learned: LearnedInventory): Promise<Inventory> {
    const checkDevice = learned.devices.length > 0 ? await loadStoredDeviceCheck() : undefined;
    return new Inventory({ config, file: this.options.file, learned, previous: this.snapshot, ...(checkDevice ? { checkDevice } : {}) });
  }

  private swap(inventory: Inventory, source: 'relay.yaml' | 'store'): InventoryDiff {
    const before = this.snapshot;
    this.snapshot = inventory;
    const diff = diffInventories(before, inventory);
    this.warn(inventory.warnings);
    // The audit event: names only, never keys or hashes. An operator's reload is always recorded;
    // a store refresh only when it changed someone or something (not the first load at start).
    const changed = [diff.users, diff.devices].some((c) => c.added.length + c.removed.length + c.changed.length > 0);
    if (source === 'relay.yaml' || changed) {
      this.logger.info({ event: 'config.reloaded', source, users: diff.users, devices: diff.devices }, `inventory reloaded from ${source}`);
    }
    for (const listener of this.listeners) {
      try {
        listener({ before, after: inventory, diff });
      } catch (err) {
        this.logger.error({ event: 'config.reload-effect-failed', err }, 'applying a reload failed');
      }
    }
    return diff;
  }

  private warn(warnings: readonly string[]): void {
    for (const warning of warnings) this.logger.warn({ event: 'config.warning', warning }, warning);
  }

  private storeFailed(err: unknown): void {
    this.logger.warn({ event: 'inventory.store-failed', err }, 'inventory store changed but could not be read; keeping the last inventory');
  }
}

/** A view of one fixed snapshot, for code and tests that run without reloads. */
export function fixedInventory(inventory: Inventory): InventoryView {
  return { current: () => inventory };
}
