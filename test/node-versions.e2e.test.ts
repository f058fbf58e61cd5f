import { expect, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { openConsole } from './support/ssh2-console.js';
import { serviceEnvironment } from './support/systemd-unit.js';
import { makeTempDir } from './support/temp-dir.js';

// The production pair, end to end: relay on Node.js 24, edge agent on Debian's Node.js 20.19
// (test/vitest.config.ts picks the binaries; node-runtime.test.ts covers how), the agent with the
// Node.js options its systemd unit sets (lifeline-agent.service: NODE_OPTIONS), so a flag the unit
// sets for memory cannot break the console.
it("runs a site as in production: the relay on Node.js 24, its agent on 20 with its unit's options, a person at the console", async () => {
  const dir = await makeTempDir('node-runtime-site');
  const { NODE_OPTIONS } = await serviceEnvironment('lifeline-agent.service');
  expect(NODE_OPTIONS).toBeTruthy();
  const site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }', agentEnv: { NODE_OPTIONS } });
  try {
    const listening = await site.relay.waitForLog('relay listening', (l) => l.event === 'relay.listening');
    const started = await site.agent!.waitForLog('agent started', (l) => l.event === 'agent.start');
    expect(listening.node).toMatch(/^v24\./);
    expect(started.node).toMatch(/^v20\.(19|[2-9]\d)\./);
    // The console works through that agent: a login, a command, its answer.
    const person = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    try {
      person.write('\r');
      await person.waitForOutput('rtr-1>');
      person.write('show version\r');
      await person.waitForOutput(/simulated IOS/i);
    } finally {
      person.end();
    }
  } finally {
    await site.stop();
    await dir.remove();
  }
});
