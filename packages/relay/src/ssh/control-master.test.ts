import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { opensshArgs, passwordLogin } from './testing/openssh.js';
import { killAllPeers, missingPeers, spawnPeer, spawnPeerOnPty } from './testing/peer-process.js';
import { startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({ limits: { sessionsPerConnection: 2 } });
});
afterAll(async () => {
  await relay?.close();
});
afterEach(async () => {
  await killAllPeers();
});

describe.skipIf(missingPeers('ssh', '/usr/bin/python3'))('OpenSSH ControlMaster through one connection', () => {
  it('gives each multiplexed ssh its own console session up to limits.sessionsPerConnection, and tells the next one why it is refused', async () => {
    const control = join(relay.dir, 'ctl');
    const login = await passwordLogin(relay);
    const master = spawnPeer('ssh', opensshArgs(relay, 'alice:dev1', [...login.args, '-M', '-S', control, '-N']), login.env);
    const started = Date.now();
    while (!existsSync(control)) {
      if (Date.now() - started > 10_000) throw new Error('the ControlMaster socket did not appear');
      await new Promise((r) => setTimeout(r, 50));
    }
    const mux = (extra: string[] = []) =>
      spawnPeerOnPty('ssh', opensshArgs(relay, 'alice:dev1', ['-S', control, '-o', 'ControlMaster=no', ...extra]));

    const first = mux();
    const second = mux();
    await relay.broker.until(() => relay.broker.attachments.length === 2);
    const [a, b] = relay.broker.attachments;
    expect(a!.request.person.sessionId).not.toBe(b!.request.person.sessionId);
    // One TCP connection carries both: one auth.success in the log.
    expect(relay.logs.filter((l) => l.event === 'auth.success')).toHaveLength(1);

    const third = spawnPeer('ssh', opensshArgs(relay, 'alice:dev1', ['-S', control, '-o', 'ControlMaster=no', '-T']));
    const refused = await third.waitForExit();
    expect(refused.code).toBe(255);
    expect(third.output).toMatch(/Session open refused by peer/);
    await relay.waitForLog('session.limit', { limit: 2 });
    // The master, which holds the connection, prints the reason.
    const started2 = Date.now();
    while (!/administratively prohibited: lifeline: at most 2 console sessions at once on one connection/.test(master.output)) {
      if (Date.now() - started2 > 5_000) throw new Error(`no reason in the master's output: ${master.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    a!.terminal.end(0);
    b!.terminal.end(0);
    expect((await first.waitForExit()).code).toBe(0);
    expect((await second.waitForExit()).code).toBe(0);
  });
});
