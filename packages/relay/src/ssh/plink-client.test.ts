import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAllPeers, missingPeers, spawnPeer } from './testing/peer-process.js';
import { ALICE_PASSWORD, startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

let relay: TestRelay;

beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay?.close();
});
afterEach(async () => {
  await killAllPeers();
});

function plink(login: string, password: string, extra: string[] = []) {
  return spawnPeer('plink', ['-ssh', '-batch', '-P', String(relay.port), '-l', login, '-pw', password, '-hostkey', relay.hostKeyFingerprint, ...extra, relay.host]);
}

describe.skipIf(missingPeers('plink'))('PuTTY plink', () => {
  it('logs in with a password (keyboard-interactive) and round-trips keystrokes', async () => {
    const before = relay.broker.attachments.length;
    const client = plink('alice:dev2', ALICE_PASSWORD, ['-v']);
    const attachment = await relay.broker.until(() => relay.broker.attachments[before]);
    // plink asks for a pty even with piped stdin, and waits for the replies to pty-req and shell.
    expect(attachment.request).toMatchObject({ user: 'alice', deviceId: 'dev2', term: { name: 'xterm' } });
    client.write('hello-from-plink\n');
    await client.waitForOutput('hello-from-plink');
    await relay.broker.until(() => attachment.inputText.includes('hello-from-plink'));
    await relay.waitForLog('auth.success', { user: 'alice:dev2', method: 'keyboard-interactive' });
    attachment.terminal.end(0);
    expect((await client.waitForExit()).code).toBe(0);
  });

  it('is refused a wrong password', async () => {
    const client = plink('alice', 'wrong-password');
    const { code } = await client.waitForExit();
    expect(code).not.toBe(0);
    expect(client.output).toMatch(/Access denied/);
    expect(client.output).toMatch(/FATAL ERROR: Configured password was not accepted/);
  });

  it('negotiates curve25519 with the Ed25519 host key', async () => {
    const before = relay.broker.attachments.length;
    const client = plink('alice', ALICE_PASSWORD, ['-v']);
    const attachment = await relay.broker.until(() => relay.broker.attachments[before]);
    expect(client.output).toMatch(/Doing ECDH key exchange with curve Curve25519/);
    expect(client.output).not.toMatch(/Diffie-Hellman/i);
    expect(client.output).toMatch(/Host key fingerprint is:\s+ssh-ed25519 255 SHA256:/);
    const handshakes = relay.logs.filter((l) => l.event === 'connection.handshake');
    expect(handshakes.at(-1)).toMatchObject({ kex: 'curve25519-sha256', hostKey: 'ssh-ed25519' });
    attachment.terminal.end(0);
    await client.waitForExit();
  });
});
