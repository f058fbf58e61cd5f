/**
 * The one test suite every InventoryStore runs (as console-port.contract.ts does for console
 * ports): SQLite on a temporary file, PostgreSQL on a real server started by the test. Imported
 * only from `*.test.ts` files; tsc leaves `*.contract.ts` out of dist because it imports vitest.
 *
 * Usage, in `my-inventory-store.test.ts`:
 * ```ts
 * describeInventoryStoreContract('MyInventoryStore', async () => ({ store, reopen, cleanup }));
 * ```
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared/core';
import type { EnrolmentToken, InventoryStore, RedeemRequest, StoredDevice, StoredUser } from './inventory-store.js';

export interface InventoryStoreFixture {
  /** A store on an empty database. */
  store: InventoryStore;
  /** Another store on the same database (as after a restart, or a second relay of a group). */
  reopen(): Promise<InventoryStore>;
  /** Closes what the fixture opened (stores it made included) and removes the database. */
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

const alice: StoredUser = {
  name: 'alice',
  passwordHash: '$scrypt$N=16384,r=8,p=1$c2FsdA$aGFzaA',
  authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop'],
  role: 'engineer',
  devices: ['rtr-tokyo-*'],
  deviceLabels: [{ site: 'tokyo' }],
  defaultDevice: 'rtr-tokyo-01',
};
const bob: StoredUser = { name: 'bob', authorizedKeys: ['ssh-ed25519 AAAAbob'], role: 'supervisor', devices: [], deviceLabels: [] };
const router: StoredDevice = { id: 'rtr-tokyo-01', labels: { site: 'tokyo', kind: 'router' }, description: 'core router' };
const KEY_A = 'ssh-ed25519 AAAAkeyA agent-a';
const KEY_B = 'ssh-ed25519 AAAAkeyB agent-b';

function token(hash: string, deviceId = router.id, expiresAt = T0 + 24 * HOUR): EnrolmentToken {
  return { deviceId, tokenHash: hash, createdAt: T0, expiresAt, createdBy: 'os:root' };
}

function redeem(over: Partial<RedeemRequest> = {}): RedeemRequest {
  return { deviceId: router.id, tokenHash: 'a'.repeat(64), publicKey: KEY_A, peer: '192.0.2.7', now: T0 + HOUR, approval: 'auto', ...over };
}

/** Resolves on the next onChange call; rejects after `ms`. */
function nextChange(store: InventoryStore, ms = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no onChange within ${ms} ms`));
    }, ms);
    const off = store.onChange(() => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

export function describeInventoryStoreContract(name: string, makeFixture: () => Promise<InventoryStoreFixture>): void {
  describe(`${name} (InventoryStore contract)`, () => {
    let fixture: InventoryStoreFixture;
    let store: InventoryStore;

    beforeEach(async () => {
      fixture = await makeFixture();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('starts empty', async () => {
      expect(await store.load()).toEqual({ users: [], devices: [], agents: [] });
    });

    it('stores people, replaces one by name and removes them', async () => {
      await store.putUser(alice);
      await store.putUser(bob);
      expect((await store.load()).users).toEqual([alice, bob]);
      await store.putUser({ ...alice, role: 'admin', passwordHash: undefined });
      const replaced = (await store.load()).users.find((u) => u.name === 'alice');
      expect(replaced?.role).toBe('admin');
      expect(replaced?.passwordHash).toBeUndefined();
      expect(await store.removeUser('alice')).toBe(true);
      expect(await store.removeUser('alice')).toBe(false);
      expect((await store.load()).users).toEqual([bob]);
    });

    it('stores devices with their labels and removes them', async () => {
      await store.putDevice(router);
      await store.putDevice({ id: 'sw-osaka-01', labels: {} });
      expect((await store.load()).devices).toEqual([router, { id: 'sw-osaka-01', labels: {} }]);
      await store.putDevice({ ...router, labels: { site: 'tokyo' } });
      expect((await store.load()).devices[0]).toEqual({ ...router, labels: { site: 'tokyo' } });
      expect(await store.removeDevice('sw-osaka-01')).toBe(true);
      expect(await store.removeDevice('sw-osaka-01')).toBe(false);
      expect((await store.load()).devices.map((d) => d.id)).toEqual([router.id]);
    });

    it('keeps what it stored across a reopen', async () => {
      await store.putUser(alice);
      await store.putDevice(router);
      await store.addToken(token('a'.repeat(64)));
      await store.redeem(redeem());
      const again = await fixture.reopen();
      expect(await again.load()).toEqual(await store.load());
      expect((await again.redeem(redeem({ publicKey: KEY_B }))).result).toBe('refused');
    });

    it('binds the key of a valid token to its device, approved at once with approval auto', async () => {
      await store.putDevice(router);
      await store.addToken(token('a'.repeat(64)));
      const result = await store.redeem(redeem());
      const agent = { deviceId: router.id, publicKey: KEY_A, state: 'approved', since: T0 + HOUR, peer: '192.0.2.7' };
      expect(result).toEqual({ result: 'enrolled', agent });
      expect((await store.load()).agents).toEqual([agent]);
    });

    it('spends a token once: a second redeem is refused as used', async () => {
      await store.addToken(token('a'.repeat(64)));
      expect((await store.redeem(redeem())).result).toBe('enrolled');
      expect(await store.redeem(redeem({ publicKey: KEY_B }))).toEqual({ result: 'refused', reason: 'used' });
      expect((await store.load()).agents.map((a) => a.publicKey)).toEqual([KEY_A]);
    });

    it('refuses an unknown, an expired and another device’s token, and spends none of them', async () => {
      await store.addToken(token('b'.repeat(64), router.id, T0 + HOUR));
      await store.addToken(token('c'.repeat(64), 'sw-osaka-01'));
      expect(await store.redeem(redeem({ tokenHash: 'f'.repeat(64) }))).toEqual({ result: 'refused', reason: 'unknown' });
      expect(await store.redeem(redeem({ tokenHash: 'b'.repeat(64), now: T0 + HOUR }))).toEqual({ result: 'refused', reason: 'expired' });
      expect(await store.redeem(redeem({ tokenHash: 'c'.repeat(64) }))).toEqual({ result: 'refused', reason: 'other-device' });
      expect((await store.load()).agents).toEqual([]);
      // The other device's token is still good for its own device.
      expect((await store.redeem(redeem({ tokenHash: 'c'.repeat(64), deviceId: 'sw-osaka-01' }))).result).toBe('enrolled');
    });

    it('keeps a manually approved agent pending until approved; polling without a token needs its own key', async () => {
      await store.addToken(token('a'.repeat(64)));
      expect((await store.redeem(redeem({ approval: 'manual' }))).result).toBe('pending');
      expect((await store.redeem(redeem({ tokenHash: undefined, approval: 'manual' }))).result).toBe('pending');
      expect(await store.redeem(redeem({ tokenHash: undefined, publicKey: KEY_B }))).toEqual({ result: 'refused', reason: 'unknown' });
      const approved = await store.setAgentState(router.id, 'approved', T0 + 2 * HOUR);
      expect(approved).toMatchObject({ state: 'approved', since: T0 + 2 * HOUR, publicKey: KEY_A });
      expect((await store.redeem(redeem({ tokenHash: undefined }))).result).toBe('enrolled');
    });

    it('refuses a revoked key even with a fresh token; a new key enrols again', async () => {
      await store.addToken(token('a'.repeat(64)));
      await store.redeem(redeem());
      expect(await store.setAgentState(router.id, 'revoked', T0 + 2 * HOUR)).toMatchObject({ state: 'revoked', since: T0 + 2 * HOUR });
      // Approving does not bring a revoked agent back.
      expect((await store.setAgentState(router.id, 'approved', T0 + 3 * HOUR))?.state).toBe('revoked');
      await store.addToken(token('d'.repeat(64)));
      expect(await store.redeem(redeem({ tokenHash: 'd'.repeat(64) }))).toEqual({ result: 'refused', reason: 'revoked' });
      expect(await store.redeem(redeem({ tokenHash: undefined }))).toEqual({ result: 'refused', reason: 'revoked' });
      const again = await store.redeem(redeem({ tokenHash: 'd'.repeat(64), publicKey: KEY_B }));
      expect(again).toMatchObject({ result: 'enrolled', agent: { publicKey: KEY_B, state: 'approved' } });
      expect((await store.load()).agents).toHaveLength(1);
    });

    it('answers setAgentState with undefined for a device without an agent', async () => {
      await store.putDevice(router);
      expect(await store.setAgentState(router.id, 'approved', T0)).toBeUndefined();
      expect(await store.setAgentState('nothing-here', 'revoked', T0)).toBeUndefined();
    });

    it('lets exactly one of many concurrent redeems of one token win', async () => {
      await store.addToken(token('a'.repeat(64)));
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.redeem(redeem({ publicKey: `ssh-ed25519 AAAAkey${i} agent-${i}` }))),
      );
      expect(results.filter((r) => r.result === 'enrolled')).toHaveLength(1);
      expect(results.filter((r) => r.result === 'refused' && r.reason === 'used')).toHaveLength(11);
      const winner = results.find((r) => r.result === 'enrolled');
      expect((await store.load()).agents.map((a) => a.publicKey)).toEqual([winner?.result === 'enrolled' ? winner.agent.publicKey : '']);
    });

    it('lets exactly one of two stores on the same database win a token', async () => {
      const other = await fixture.reopen();
      await store.addToken(token('a'.repeat(64)));
      const results = await Promise.all([store.redeem(redeem()), other.redeem(redeem({ publicKey: KEY_B }))]);
      expect(results.map((r) => r.result).sort()).toEqual(['enrolled', 'refused']);
    });

    it('removes a device with its agent and its tokens, and keeps the agent when the device is replaced', async () => {
      await store.putDevice(router);
      await store.addToken(token('a'.repeat(64)));
      await store.addToken(token('e'.repeat(64)));
      await store.redeem(redeem());
      await store.putDevice({ ...router, description: 'renamed' });
      expect((await store.load()).agents).toHaveLength(1);
      expect(await store.removeDevice(router.id)).toBe(true);
      expect((await store.load()).agents).toEqual([]);
      expect(await store.redeem(redeem({ tokenHash: 'e'.repeat(64) }))).toEqual({ result: 'refused', reason: 'unknown' });
    });

    it('prunes expired and spent tokens older than the cut-off and keeps live ones', async () => {
      await store.addToken(token('1'.repeat(64), router.id, T0 + HOUR));
      await store.addToken(token('2'.repeat(64), router.id, T0 + 48 * HOUR));
      await store.addToken(token('3'.repeat(64), router.id, T0 + 48 * HOUR));
      await store.redeem(redeem({ tokenHash: '2'.repeat(64), now: T0 + 2 * HOUR }));
      expect(await store.pruneTokens(T0 + 3 * HOUR)).toBe(2);
      expect(await store.pruneTokens(T0 + 3 * HOUR)).toBe(0);
      expect(await store.redeem(redeem({ tokenHash: '2'.repeat(64), publicKey: KEY_B }))).toEqual({ result: 'refused', reason: 'unknown' });
      expect((await store.redeem(redeem({ tokenHash: '3'.repeat(64), publicKey: KEY_B, now: T0 + 4 * HOUR }))).result).toBe('enrolled');
    });

    it('calls onChange listeners after each change, and no more after unsubscribing', async () => {
      let calls = 0;
      const off = store.onChange(() => calls++);
      const changed = nextChange(store);
      await store.putUser(alice);
      await changed;
      for (const step of [
        () => store.putDevice(router),
        () => store.addToken(token('a'.repeat(64))),
        () => store.redeem(redeem()),
        () => store.setAgentState(router.id, 'revoked', T0 + 2 * HOUR),
        () => store.removeUser('alice'),
        () => store.removeDevice(router.id),
      ]) {
        const seen = nextChange(store);
        await step();
        await seen;
      }
      expect(calls).toBeGreaterThanOrEqual(7);
      off();
      const before = calls;
      await store.putUser(bob);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(calls).toBe(before);
    });

    it('keeps calling other listeners when one throws', async () => {
      store.onChange(() => {
        throw new Error('listener bug');
      });
      const seen = nextChange(store);
      await store.putUser(alice);
      await seen;
    });

    it('refuses every method with INVENTORY_UNAVAILABLE once closed, and closes twice without harm', async () => {
      await store.close();
      await store.close();
      for (const call of [() => store.load(), () => store.putUser(alice), () => store.redeem(redeem()), () => store.pruneTokens(T0)]) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isLifelineError(err, 'INVENTORY_UNAVAILABLE')).toBe(true);
      }
    });
  });
}
