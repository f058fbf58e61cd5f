import { execFileSync } from 'node:child_process';
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
  return spawnPeer('plink', [
    '-ssh',
    '-batch',
    '-P',
    String(relay.port),
    '-l',
    login,
    '-pw',
    password,
    '-hostkey',
    relay.hostKeyFingerprint,
    ...extra,
    relay.host,
  ]);
}

describe.skipIf(missingPeers('plink'))('PuTTY plink', () => {
  it('logs in with a password (the password method: PuTTY is not offered keyboard-interactive) and round-trips keystrokes', async () => {
    const before = relay.broker.attachments.length;
    const client = plink('alice:dev2', ALICE_PASSWORD, ['-v']);
    const attachment = await relay.broker.until(() => relay.broker.attachments[before]);
    // plink asks for a pty even with piped stdin, and waits for the replies to pty-req and shell.
    expect(attachment.request).toMatchObject({ person: { user: 'alice' }, deviceId: 'dev2', term: { name: 'xterm' } });
    client.write('hello-from-plink\n');
    await client.waitForOutput('hello-from-plink');
    await relay.broker.until(() => attachment.inputText.includes('hello-from-plink'));
    await relay.waitForLog('auth.success', { user: 'alice:dev2', method: 'password' });
    attachment.terminal.end(0);
    expect((await client.waitForExit()).code).toBe(0);
  });

  for (const mode of [['-batch'], []]) {
    it(`prints nothing of its own but the user name with -pw (${mode.join(' ') || 'not batch'}): no empty keyboard-interactive prompt block`, async () => {
      const before = relay.broker.attachments.length;
      const client = spawnPeer('plink', [
        '-ssh',
        ...mode,
        '-P',
        String(relay.port),
        '-l',
        'alice',
        '-pw',
        ALICE_PASSWORD,
        '-hostkey',
        relay.hostKeyFingerprint,
        relay.host,
      ]);
      const attachment = await relay.broker.until(() => relay.broker.attachments[before]);
      attachment.terminal.write(Buffer.from('console-says-hi\r\n'));
      await client.waitForOutput('console-says-hi');
      attachment.terminal.end(0);
      await client.waitForExit();
      expect(client.output).not.toMatch(/keyboard-interactive/i);
      expect(client.output).toBe('Using username "alice".\r\nconsole-says-hi\r\n');
    });
  }

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

/** plink on a real terminal (tmux), where its anti-spoofing prompt applies; returns the screen. */
async function plinkOnTerminal(extra: string[]): Promise<{ screen: string; attached: boolean }> {
  const socket = `lifeline-plink-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args]).toString();
  const before = relay.broker.attachments.length;
  tmux(
    'new-session',
    '-d',
    '-s',
    't',
    '-x',
    '100',
    '-y',
    '20',
    'plink',
    '-ssh',
    '-P',
    String(relay.port),
    '-l',
    'alice',
    ...extra,
    '-hostkey',
    relay.hostKeyFingerprint,
    relay.host,
  );
  try {
    const attached = await relay.broker
      .until(() => relay.broker.attachments[before], 3_000)
      .then(
        () => true,
        () => false,
      );
    return { screen: tmux('capture-pane', '-p', '-t', 't').trim(), attached };
  } finally {
    tmux('kill-server');
  }
}

describe.skipIf(missingPeers('plink', 'tmux', 'puttygen'))(
  'PuTTY plink on a terminal: "Access granted. Press Return to begin session."',
  () => {
    it('is shown after a password login on a terminal, and the session waits for Return', async () => {
      const { screen, attached } = await plinkOnTerminal(['-pw', ALICE_PASSWORD]);
      expect(screen).toBe('Using username "alice".\nAccess granted. Press Return to begin session.');
      expect(attached).toBe(false);
    });

    it('is shown after a key login too (plink 0.78 asks whatever the method)', async () => {
      execFileSync('puttygen', [relay.keys.alice.file, '-O', 'private', '-o', `${relay.dir}/alice.ppk`]);
      const { screen } = await plinkOnTerminal(['-i', `${relay.dir}/alice.ppk`]);
      expect(screen).toContain('Access granted. Press Return to begin session.');
    });

    it('is skipped with -no-antispoof: the console attaches at once', async () => {
      const { screen, attached } = await plinkOnTerminal(['-pw', ALICE_PASSWORD, '-no-antispoof']);
      expect(screen).toBe('Using username "alice".');
      expect(attached).toBe(true);
    });
  },
);
