import { describe, expect, it } from 'vitest';
import { ConfigError, parsePublicKeyLine } from '@lifeline/shared';
import { generateUsableKeyPair } from '../ssh/testing/relay-test-harness.js';
import { DeviceAccess } from './device-access.js';
import { diffInventories, keysNeedingRestart } from './inventory-diff.js';
import { testInventory } from './testing/test-inventory.js';

const agentA = generateUsableKeyPair('agent-a').public;
const agentB = generateUsableKeyPair('agent-b').public;
const person = generateUsableKeyPair('alice').public;
const blobOf = (line: string) => parsePublicKeyLine(line).getPublicSSH();

const base = {
  users: [
    { name: 'alice', authorizedKeys: [person], devices: ['rtr-tokyo-01', 'sw-9'] },
    { name: 'carol', authorizedKeys: [person], devices: ['rtr-tokyo-*'], deviceLabels: [{ site: 'osaka', kind: 'switch' }] },
  ],
  devices: [
    { id: 'rtr-tokyo-01', agentKey: agentA, labels: { site: 'tokyo', kind: 'router' } },
    { id: 'rtr-tokyo-02', agentKey: agentA, labels: { site: 'tokyo', kind: 'router' } },
    { id: 'sw-osaka-01', agentKey: agentB, labels: { site: 'osaka', kind: 'switch' } },
    { id: 'rtr-osaka-01', agentKey: agentB, labels: { site: 'osaka', kind: 'router' } },
  ],
};

describe('DeviceAccess', () => {
  const access = new DeviceAccess({ devices: ['rtr-1', 'rtr-tokyo-*', 'sw-?'], deviceLabels: [{ site: 'osaka', kind: 'switch' }] });
  const d = (id: string, labels: Record<string, string> = {}) => ({ id, labels });

  it('allows by id, by glob and by a selector whose every label matches', () => {
    expect(access.allows(d('rtr-1'))).toBe(true);
    expect(access.allows(d('rtr-tokyo-17'))).toBe(true);
    expect(access.allows(d('sw-3'))).toBe(true);
    expect(access.allows(d('x', { site: 'osaka', kind: 'switch', rack: '3' }))).toBe(true);
  });

  it('refuses what no entry matches, a partial selector match, and treats glob characters only as wildcards', () => {
    expect(access.allows(d('rtr-2'))).toBe(false);
    expect(access.allows(d('sw-33'))).toBe(false);
    expect(access.allows(d('x', { site: 'osaka', kind: 'router' }))).toBe(false);
    expect(new DeviceAccess({ devices: ['a.b*'], deviceLabels: [] }).allows(d('aXb1'))).toBe(false);
  });

  it('takes defaultDevice, else a first entry that is an id, else no default', () => {
    const lookup = (id: string) => d(id);
    expect(new DeviceAccess({ devices: ['a', 'b'], deviceLabels: [], defaultDevice: 'b' }).defaultFor(lookup)).toBe('b');
    expect(new DeviceAccess({ devices: ['a', 'b'], deviceLabels: [] }).defaultFor(lookup)).toBe('a');
    expect(new DeviceAccess({ devices: ['a*'], deviceLabels: [] }).defaultFor(lookup)).toBeUndefined();
    expect(new DeviceAccess({ devices: ['a'], deviceLabels: [], defaultDevice: 'z' }).defaultFor(lookup)).toBeUndefined();
  });
});

describe('Inventory', () => {
  it('finds an agent key by its public blob with every device it serves, and by fingerprint per device', () => {
    const inv = testInventory(base);
    const entry = inv.agentKey(blobOf(agentA));
    expect(entry?.deviceIds).toEqual(['rtr-tokyo-01', 'rtr-tokyo-02']);
    expect(inv.agentServes(entry!.fingerprint, 'rtr-tokyo-02')).toBe(true);
    expect(inv.agentServes(entry!.fingerprint, 'sw-osaka-01')).toBe(false);
    expect(inv.agentKey(blobOf(person))).toBeUndefined();
  });

  it('routes and lists by the access rule, the same answer for unknown and forbidden', () => {
    const inv = testInventory(base);
    expect(inv.reachable('carol').map((d) => d.id)).toEqual(['rtr-tokyo-01', 'rtr-tokyo-02', 'sw-osaka-01']);
    expect(inv.route('carol', undefined)).toBeUndefined();
    expect(inv.route('carol', 'rtr-osaka-01')).toBeUndefined();
    expect(inv.route('carol', 'nope')).toBeUndefined();
    expect(inv.route('alice', undefined)?.id).toBe('rtr-tokyo-01');
  });

  it('warns about a user naming a device that does not exist, and accepts the file', () => {
    expect(testInventory(base).warnings).toEqual(['relay.yaml: user alice: device "sw-9" does not exist (yet)']);
  });

  it('lets relay.yaml win over the store, adds stored users and devices, and serves a device by its approved enrolled key', () => {
    const enrolled = generateUsableKeyPair('enrolled').public;
    const inv = testInventory(base, {
      users: [
        { name: 'alice', authorizedKeys: [], role: 'admin', devices: [], deviceLabels: [] },
        { name: 'dan', authorizedKeys: [person], role: 'engineer', devices: ['pi-*'], deviceLabels: [] },
      ],
      devices: [
        { id: 'pi-1', labels: { site: 'lab' } },
        { id: 'pi-2', labels: {} },
      ],
      agents: [
        { deviceId: 'pi-1', publicKey: enrolled, state: 'approved', since: 0, peer: 'p' },
        { deviceId: 'pi-2', publicKey: agentB, state: 'pending', since: 0, peer: 'p' },
      ],
    });
    expect(inv.user('alice')?.role).toBe('engineer');
    expect(inv.user('dan')?.source).toBe('store');
    expect(inv.device('pi-1')?.breakMs).toBe(500);
    expect(inv.agentKey(blobOf(enrolled))?.deviceIds).toEqual(['pi-1']);
    expect(inv.agentKey(blobOf(agentB))?.deviceIds).toEqual(['sw-osaka-01', 'rtr-osaka-01']);
    expect(inv.reachable('dan').map((d) => d.id)).toEqual(['pi-1', 'pi-2']);
  });

  it("carries an enrolled agent's state on its device (what `devices` shows), unless relay.yaml names the device's key", () => {
    const enrolled = generateUsableKeyPair('enrolled').public;
    const inv = testInventory(base, {
      users: [],
      devices: [
        { id: 'pi-1', labels: {} },
        { id: 'pi-2', labels: {} },
        { id: 'pi-3', labels: {} },
      ],
      agents: [
        { deviceId: 'pi-1', publicKey: enrolled, state: 'approved', since: 5, peer: 'p' },
        { deviceId: 'pi-2', publicKey: agentB, state: 'pending', since: 6, peer: 'p' },
        { deviceId: 'pi-3', publicKey: enrolled, state: 'revoked', since: 7, peer: 'p' },
        // relay.yaml's agentKey serves rtr-tokyo-01: an enrolled agent's state means nothing there.
        { deviceId: 'rtr-tokyo-01', publicKey: enrolled, state: 'pending', since: 8, peer: 'p' },
      ],
    });
    expect(inv.device('pi-1')?.enrolment).toEqual({ state: 'approved', since: 5 });
    expect(inv.device('pi-2')?.enrolment).toEqual({ state: 'pending', since: 6 });
    expect(inv.device('pi-2')?.agentFingerprint).toBeUndefined();
    expect(inv.device('pi-3')?.enrolment).toEqual({ state: 'revoked', since: 7 });
    expect(inv.device('pi-3')?.agentFingerprint).toBeUndefined();
    expect(inv.device('rtr-tokyo-01')?.enrolment).toBeUndefined();
    expect(inv.device('rtr-tokyo-02')?.enrolment).toBeUndefined();
  });

  it('reuses the key objects the previous snapshot parsed', () => {
    const first = testInventory(base);
    const second = testInventory(base, undefined, first);
    expect(second.agentKey(blobOf(agentA))!.key).toBe(first.agentKey(blobOf(agentA))!.key);
  });

  it('refuses unusable key lines and password hashes with file and key', () => {
    let caught: unknown;
    try {
      testInventory({
        users: [{ name: 'a', password: '$scrypt$oops', devices: [] }],
        devices: [{ id: 'd', agentKey: 'ssh-ed25519 notbase64!' }],
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems.map((p) => `${p.file}: ${p.key}`)).toEqual([
      'relay.yaml: users[0].password',
      'relay.yaml: devices[0].agentKey',
    ]);
  });
});

describe('diffInventories', () => {
  it('names users and devices added, removed and changed (role, access, agent key), nothing else', () => {
    const before = testInventory(base);
    const after = testInventory({
      users: [
        { name: 'alice', authorizedKeys: [person], devices: ['rtr-tokyo-01', 'sw-9'], role: 'supervisor' },
        { name: 'erin', authorizedKeys: [person], devices: [] },
      ],
      devices: [
        { id: 'rtr-tokyo-01', agentKey: agentA, labels: { site: 'tokyo', kind: 'router' } },
        { id: 'rtr-tokyo-02', agentKey: agentB, labels: { site: 'tokyo', kind: 'router' } },
        // The same key with another comment is no change.
        { id: 'sw-osaka-01', agentKey: agentB.replace(/ \S+$/, ' renamed'), labels: { site: 'osaka', kind: 'switch' } },
        { id: 'new-1', agentKey: agentA },
      ],
    });
    expect(diffInventories(before, after)).toEqual({
      users: { added: ['erin'], removed: ['carol'], changed: ['alice'] },
      devices: { added: ['new-1'], removed: ['rtr-osaka-01'], changed: ['rtr-tokyo-02'] },
    });
    expect(diffInventories(after, after)).toEqual({
      users: { added: [], removed: [], changed: [] },
      devices: { added: [], removed: [], changed: [] },
    });
  });

  it('names the changed keys a reload cannot apply', () => {
    const running = { listen: { host: '0.0.0.0', port: 443 }, users: [], devices: [], escapeChar: '^]', banner: true };
    const next = { ...running, listen: { host: '0.0.0.0', port: 2222 }, users: [{}], escapeChar: '^B', banner: false };
    expect(keysNeedingRestart(running as never, next as never)).toEqual(['banner', 'listen']);
  });
});
