import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile } from '@lifeline/shared';
import { capturedLogger } from '@lifeline/shared/testing';
import { makeTempDir } from '../../../../test/support/temp-dir.js';
import { generateUsableKeyPair } from '../ssh/testing/relay-test-harness.js';
import { LiveInventory, type InventoryChange } from './live-inventory.js';
import { applyInventoryChange } from './reload-effects.js';

const keyA = generateUsableKeyPair('a').public;
const keyB = generateUsableKeyPair('b').public;
const yaml = (users: string[], devices: string[], extra = '') =>
  ['listen: { host: 127.0.0.1, port: 0 }', extra, 'users:', ...users, devices.length ? 'devices:' : 'devices: []', ...devices].join('\n');
const alice = `  - { name: alice, authorizedKeys: ["${keyA}"], devices: [d1], role: supervisor }`;
const bob = `  - { name: bob, authorizedKeys: ["${keyA}"], devices: ["d*"] }`;

let dir: { path: string; remove(): Promise<void> };
let file: string;
beforeEach(async () => {
  dir = await makeTempDir('live-inventory');
  file = join(dir.path, 'relay.yaml');
});
afterEach(() => dir.remove());

async function start(text: string) {
  await writeFile(file, text);
  const { logger, lines } = capturedLogger();
  const live = new LiveInventory({ file, config: await loadConfigFile(file, 'relay'), logger });
  const changes: InventoryChange[] = [];
  live.onChange((c) => changes.push(c));
  return { live, lines, changes };
}

describe('LiveInventory', () => {
  it('applies a new relay.yaml at once and audits what changed by name only', async () => {
    const { live, lines, changes } = await start(yaml([alice], [`  - { id: d1, agentKey: "${keyA}" }`]));
    await writeFile(
      file,
      yaml([alice.replace('supervisor', 'engineer'), bob], [`  - { id: d1, agentKey: "${keyA}" }`, `  - { id: d2, agentKey: "${keyB}" }`]),
    );
    const summary = await live.reload();
    expect(summary).toMatchObject({ users: { added: ['bob'], changed: ['alice'] }, devices: { added: ['d2'] }, restartNeeded: [] });
    expect(live.current().user('alice')?.role).toBe('engineer');
    expect(
      live
        .current()
        .reachable('bob')
        .map((d) => d.id),
    ).toEqual(['d1', 'd2']);
    expect(changes).toHaveLength(1);
    const audit = lines.find((l) => l.event === 'config.reloaded')!;
    expect(audit).toMatchObject({ users: { added: ['bob'], removed: [], changed: ['alice'] } });
    expect(JSON.stringify(audit)).not.toContain('AAAA');
  });

  it('refuses a bad file with file: key: problem and keeps the running inventory', async () => {
    const { live, changes } = await start(yaml([alice], [`  - { id: d1, agentKey: "${keyA}" }`]));
    const before = live.current();
    await writeFile(file, yaml([alice], [`  - { id: d1, agentKey: "ssh-ed25519 broken!" }`, `  - { id: d1, agentKey: "${keyA}" }`]));
    const err = await live.reload().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`${file}: devices[1].id: duplicate device id "d1"`);
    expect(live.current()).toBe(before);
    expect(changes).toHaveLength(0);
    // A file that parses but has an unusable key is refused too.
    await writeFile(file, yaml([alice], [`  - { id: d1, agentKey: "ssh-ed25519 broken!" }`]));
    await expect(live.reload()).rejects.toThrow(`${file}: devices[0].agentKey: not a usable public key line`);
    expect(live.current()).toBe(before);
  });

  it('names keys that need a restart, keeps their running value and applies the rest', async () => {
    const { live, lines } = await start(yaml([alice], []));
    await writeFile(file, yaml([alice, bob], [], 'banner: false\nlimits: { sessionsPerConnection: 2 }').replace('port: 0', 'port: 2222'));
    const summary = await live.reload();
    expect(summary.restartNeeded).toEqual(['banner', 'limits', 'listen']);
    expect(live.config.listen.port).toBe(0);
    expect(live.config.users.map((u) => u.name)).toEqual(['alice', 'bob']);
    expect(lines.find((l) => l.event === 'config.restart-needed')).toMatchObject({ keys: ['banner', 'limits', 'listen'] });
  });
});

describe('applyInventoryChange', () => {
  it('ends removed users, removes devices, drops only tunnels whose key no longer serves their device', async () => {
    const { live, changes } = await start(
      yaml(
        [alice, bob],
        [`  - { id: d1, agentKey: "${keyA}" }`, `  - { id: d2, agentKey: "${keyA}" }`, `  - { id: d3, agentKey: "${keyA}" }`],
      ),
    );
    const fingerprint = live.current().device('d1')!.agentFingerprint!;
    const calls: string[] = [];
    const tunnel = (id: string) => ({ agentFingerprint: fingerprint, drop: (reason: string) => calls.push(`drop ${id}: ${reason}`) });
    live.onChange((change) =>
      applyInventoryChange(change, {
        sessions: {
          endSessionsOf: (user) => (calls.push(`end ${user}`), 1),
          removeDevice: (id) => calls.push(`remove ${id}`),
          reconfigure: (d) => calls.push(`reconfigure ${d.id}`),
        },
        tunnels: { current: (id) => tunnel(id) },
        consoleLogs: { close: async (id) => void calls.push(`log ${id}`) },
        logger: capturedLogger().logger,
      }),
    );
    await writeFile(file, yaml([alice], [`  - { id: d1, agentKey: "${keyA}" }`, `  - { id: d3, agentKey: "${keyB}" }`]));
    await live.reload();
    expect(changes).toHaveLength(1);
    expect(calls.sort()).toEqual([
      'drop d2: the device was removed from the inventory',
      'drop d3: the agent key of this device changed',
      'end bob',
      'log d2',
      'reconfigure d3',
      'remove d2',
    ]);
  });
});
