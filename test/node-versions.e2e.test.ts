import { expect, it } from 'vitest';
import { LifelineSite } from './support/lifeline-site.js';
import { makeTempDir } from './support/temp-dir.js';

// The production pair, end to end: relay on Node.js 24, edge agent on Debian's Node.js 20.19
// (test/vitest.config.ts picks the binaries; node-runtime.test.ts covers how).
it('runs a site as in production: the relay says it runs on Node.js 24, its agent on 20', async () => {
  const dir = await makeTempDir('node-runtime-site');
  const site = await LifelineSite.start(dir.path);
  try {
    const listening = await site.relay.waitForLog('relay listening', (l) => l.event === 'relay.listening');
    const started = await site.agent!.waitForLog('agent started', (l) => l.event === 'agent.start');
    expect(listening.node).toMatch(/^v24\./);
    expect(started.node).toMatch(/^v20\.(19|[2-9]\d)\./);
  } finally {
    await site.stop();
    await dir.remove();
  }
});
