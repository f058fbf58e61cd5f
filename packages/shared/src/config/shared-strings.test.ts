import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { shareRepeatedStrings } from './shared-strings.js';

const run = promisify(execFile);

describe('shareRepeatedStrings', () => {
  it('returns the same plain value, nested objects and arrays included', () => {
    const value = {
      users: [
        { name: 'alice', keys: ['ssh-ed25519 AAAA one'], role: 'engineer', admin: false, limit: 3, note: null },
        { name: 'bob', keys: ['ssh-ed25519 AAAA one', 'ssh-ed25519 AAAA two'], role: 'engineer', admin: true, limit: 0, note: null },
      ],
      devices: { 'rtr-1': { labels: { site: 'tokyo' } }, 'rtr-2': { labels: { site: 'tokyo' } } },
      empty: [],
    };
    const copy = deserialize(serialize(value)) as typeof value;
    expect(shareRepeatedStrings(copy)).toBe(copy);
    expect(copy).toEqual(value);
  });

  it('frees the copies a structured clone made: 5,000 copies of a 2 kB key take one key of heap', async () => {
    // In a fresh Node.js with --expose-gc, so the heap can be measured after a full collection.
    const script = `
      import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { deserialize, serialize } from 'node:v8';
      import { shareRepeatedStrings } from ${JSON.stringify(new URL('../../dist/config/shared-strings.js', import.meta.url).href)};
      const key = 'ssh-ed25519 ' + 'A'.repeat(2000) + ' person@laptop';
      const used = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
      const before = used();
      const users = deserialize(serialize(Array.from({ length: 5000 }, (_, i) => ({ name: 'user' + i, keys: [key] }))));
      const cloned = used() - before;
      shareRepeatedStrings(users);
      const shared = used() - before;
      console.log(JSON.stringify({ cloned, shared, same: users.every((u) => u.keys[0] === key) }));
    `;
    const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { timeout: 20_000 });
    const { cloned, shared, same } = JSON.parse(stdout) as { cloned: number; shared: number; same: boolean };
    expect(same).toBe(true);
    // The clone holds 5,000 copies (about 10 MB); shared, what is left is the 5,000 small objects.
    expect(cloned).toBeGreaterThan(9_000_000);
    expect(shared).toBeLessThan(2_000_000);
  });
});
