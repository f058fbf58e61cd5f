import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capturedLogger } from '@lifeline/shared/testing';
import { WriterTokens } from './writer-tokens.js';

// The remembered writer fences on real files (console-service.test.ts has the restart itself).

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
const folder = async () => (dir = await mkdtemp(join(tmpdir(), 'writer-tokens-')));

describe('WriterTokens', () => {
  it('keeps every console of the agent in one file, the latest token of each', async () => {
    const file = join(await folder(), 'writer-tokens.json');
    const tokens = new WriterTokens(file, capturedLogger().logger);
    expect((await tokens.load()).size).toBe(0);
    // Raised one after another without waiting, as claims arrive: one write at a time, the last one wins.
    void tokens.remember('rtr-1', { token: 3n, source: 'relay-a:443' });
    void tokens.remember('sw-2', { token: 18446744073709551615n, source: 'relay-b:443' });
    await tokens.remember('rtr-1', { token: 5n, source: 'relay-b:443' });
    const again = await new WriterTokens(file, capturedLogger().logger).load();
    expect(Object.fromEntries(again)).toEqual({
      'rtr-1': { token: 5n, source: 'relay-b:443' },
      'sw-2': { token: 18446744073709551615n, source: 'relay-b:443' },
    });
  });

  it('ignores a file that is not its own, with one log line naming it', async () => {
    for (const text of ['not json', '{"devices":{"rtr-1":{"token":"-1","relay":"a:1"}}}', '{"devices":{"rtr-1":{"token":"7"}}}', 'null']) {
      const file = join(await folder(), 'writer-tokens.json');
      await writeFile(file, text);
      const { logger, lines } = capturedLogger();
      expect((await new WriterTokens(file, logger).load()).size).toBe(0);
      expect(lines.filter((l) => l.event === 'console.writer-tokens-unreadable')).toEqual([expect.objectContaining({ file })]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('logs a write it cannot make and goes on (the state folder is a file)', async () => {
    const state = join(await folder(), 'state');
    await writeFile(state, '');
    const { logger, lines } = capturedLogger();
    const tokens = new WriterTokens(join(state, 'writer-tokens.json'), logger);
    await tokens.remember('rtr-1', { token: 1n, source: 'relay-a:443' });
    expect(lines.filter((l) => l.event === 'console.writer-tokens-write-failed')).toEqual([
      expect.objectContaining({ file: join(state, 'writer-tokens.json') }),
    ]);
    // The fence itself is unaffected: the next raise tries again.
    await tokens.remember('rtr-1', { token: 2n, source: 'relay-a:443' });
    expect(lines.filter((l) => l.event === 'console.writer-tokens-write-failed')).toHaveLength(2);
  });
});
