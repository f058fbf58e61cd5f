import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_SSH_ALGORITHMS } from './relay-ssh-server.js';
import { keyLogin, opensshArgs } from './testing/openssh.js';
import { killAllPeers, missingPeers, spawnPeer, spawnPeerOnPty } from './testing/peer-process.js';
import { ALICE_PASSWORD, connectClient, startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

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

/**
 * ssh-audit's findings about one algorithm, from its batch output: lines such as
 * `(kex) ecdh-sha2-nistp256 -- [fail] using weak elliptic curves`. (ssh-audit 2.5's JSON output
 * lists the algorithms but none of the findings, so the text is what tells.)
 */
function findings(output: string): Array<{ kind: string; name: string; level: string; text: string }> {
  const found = [];
  for (const m of output.matchAll(/^\((kex|key|enc|mac)\) (\S+)\s+-- \[(\w+)\] (.*)$/gm)) {
    found.push({ kind: m[1]!, name: m[2]!, level: m[3]!, text: m[4]! });
  }
  return found;
}

describe.skipIf(missingPeers('ssh-audit'))('ssh-audit', () => {
  it('finds no failure or warning in the key exchanges, host keys, ciphers and MACs we offer', async () => {
    const audit = spawnPeer('ssh-audit', ['-b', '-n', '-t', '10', '-p', String(relay.port), relay.host]);
    await audit.waitForExit(30_000);
    const all = findings(audit.output);
    // It saw what we offer (so the parse works and the audit reached the relay).
    expect(all.filter((f) => f.kind === 'kex').map((f) => f.name)).toEqual(expect.arrayContaining(RELAY_SSH_ALGORITHMS.kex));
    expect(all.filter((f) => f.kind === 'mac').map((f) => f.name)).toEqual(expect.arrayContaining(RELAY_SSH_ALGORITHMS.hmac));
    const bad = all.filter(
      (f) =>
        f.level !== 'info' &&
        // ssh2's strict-kex marker (the Terrapin countermeasure) is newer than ssh-audit 2.5, which
        // calls it an unknown algorithm; it is not an algorithm we could drop.
        !(f.name === 'kex-strict-s-v00@openssh.com' && f.text === 'unknown algorithm'),
    );
    expect(bad).toEqual([]);
    expect(audit.output).not.toMatch(/^\(rec\)/m);
  }, 40_000);
});

describe.skipIf(missingPeers('dbclient'))("Dropbear's dbclient", () => {
  it('completes key exchange (it offers only curve25519-sha256@libssh.org) and logs in', async () => {
    // A fresh HOME: dbclient -y records the relay's host key in $HOME/.ssh/known_hosts.
    const client = spawnPeer('dbclient', ['-y', '-T', '-p', String(relay.port), `alice:dev2@${relay.host}`], {
      HOME: relay.dir,
      DROPBEAR_PASSWORD: ALICE_PASSWORD,
    });
    // ssh2 reports either curve25519 name as `curve25519-sha256`. Before the @libssh.org name came
    // first, dbclient's guessed first key-exchange packet was dropped and it hung right here.
    const handshake = await relay.waitForLog('connection.handshake', {}, 10_000);
    expect(handshake).toMatchObject({ kex: expect.stringMatching(/^curve25519-sha256/), hostKey: 'ssh-ed25519' });
    const attachment = await relay.broker.until(() => relay.broker.attachments.find((a) => a.request.deviceId === 'dev2'));
    expect(attachment.request.person.user).toBe('alice');
    attachment.terminal.end(0);
    expect((await client.waitForExit()).code).toBe(0);
  }, 30_000);
});

describe.skipIf(missingPeers('ssh', '/usr/bin/python3'))('OpenSSH client asking for compression', () => {
  it('leaves the relay serving when the client is killed mid-session (no zlib offered)', async () => {
    const ssh = spawnPeerOnPty('ssh', opensshArgs(relay, 'bob', [...keyLogin(relay.keys.bob.file), '-C']));
    const attachment = await relay.broker.until(() => relay.broker.attachments.find((a) => a.request.person.user === 'bob'));
    ssh.child.kill('SIGKILL');
    await ssh.exited;
    // With zlib@openssh.com offered, ssh2 threw "Invalid Zlib instance" out of the channel's end
    // here (an uncaught exception: the relay process would have died).
    await relay.broker.until(() => attachment.detachedWith);
    const client = await connectClient(relay, { username: 'alice', password: ALICE_PASSWORD });
    client.end();
  }, 30_000);
});
