import { connect, createServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LifelineError } from '@lifeline/shared';
import { keyLogin, opensshArgs, passwordLogin } from './testing/openssh.js';
import { killAllPeers, missingPeers, spawnPeer, spawnPeerOnPty } from './testing/peer-process.js';
import { startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

let relay: TestRelay;

beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay?.close();
});
afterEach(async () => {
  await killAllPeers();
  if (relay) relay.broker.refuse = () => undefined;
});

describe.skipIf(missingPeers('ssh', '/usr/bin/python3'))('OpenSSH client', () => {
  it('logs in with a password and round-trips keystrokes through the console', async () => {
    const login = await passwordLogin(relay);
    const ssh = spawnPeerOnPty('ssh', opensshArgs(relay, 'alice:dev2', login.args), login.env);
    const attachment = await relay.broker.until(() => relay.broker.attachments.find((a) => a.request.deviceId === 'dev2'));
    expect(attachment.request.term).toMatchObject({ size: { cols: 80, rows: 24 } });
    ssh.write('ping-from-openssh\r');
    await ssh.waitForOutput('ping-from-openssh');
    await relay.broker.until(() => attachment.inputText.includes('ping-from-openssh\r'));
    attachment.terminal.end(0);
    expect((await ssh.waitForExit()).code).toBe(0);
  });

  it('logs in with a key', async () => {
    const ssh = spawnPeerOnPty('ssh', opensshArgs(relay, 'bob', keyLogin(relay.keys.bob.file)));
    const attachment = await relay.broker.until(() => relay.broker.attachments.find((a) => a.request.person.user === 'bob'));
    attachment.terminal.end(0);
    expect((await ssh.waitForExit()).code).toBe(0);
  });

  it('is refused a wrong password', async () => {
    const login = await passwordLogin(relay, 'not-the-password');
    const ssh = spawnPeer('ssh', opensshArgs(relay, 'alice', [...login.args, '-T']), login.env);
    const { code } = await ssh.waitForExit();
    expect(code).toBe(255);
    expect(ssh.output).toMatch(/Permission denied/);
  });

  it('shows a routing error and exits with status 1', async () => {
    relay.broker.refuse = () => new LifelineError('ROUTE_DEVICE_UNAVAILABLE', 'lifeline: device dev9 is not available to alice.');
    const login = await passwordLogin(relay);
    const ssh = spawnPeerOnPty('ssh', opensshArgs(relay, 'alice:dev9', login.args), login.env);
    const { code } = await ssh.waitForExit();
    expect(code).toBe(1);
    expect(ssh.output).toContain('lifeline: device dev9 is not available to alice.\r\n');
  });

  it('is refused a command (exec)', async () => {
    const login = await passwordLogin(relay);
    const ssh = spawnPeer('ssh', [...opensshArgs(relay, 'alice', login.args), 'cat', '/etc/passwd'], login.env);
    const { code } = await ssh.waitForExit();
    expect(code).toBe(255);
    expect(ssh.output).toMatch(/exec request failed/);
  });

  it('is refused a local forward (-L) when it tries to use it', async () => {
    const localPort = await freePort();
    const login = await passwordLogin(relay);
    const ssh = spawnPeer(
      'ssh',
      opensshArgs(relay, 'alice', [...login.args, '-v', '-N', '-L', `127.0.0.1:${localPort}:127.0.0.1:${relay.port}`]),
      login.env,
    );
    await ssh.waitForOutput(/Local forwarding listening on 127\.0\.0\.1 port/);
    await ssh.waitForOutput(/Authenticated to/);
    // Knock again every second: once, under load, a single early connection went unnoticed by ssh.
    const sockets: Socket[] = [];
    const knock = () => sockets.push(connect(localPort, '127.0.0.1').on('error', () => undefined));
    knock();
    const again = setInterval(knock, 1_000);
    try {
      // ssh2 picks the reason code once a listener has the request: "connect failed".
      await ssh.waitForOutput(/channel \d+: open failed/);
    } finally {
      clearInterval(again);
      for (const s of sockets) s.destroy();
    }
    await relay.waitForLog('person.request.refused', { request: 'direct-tcpip' });
  });

  it('is refused a remote forward (-R)', async () => {
    const login = await passwordLogin(relay);
    const ssh = spawnPeer(
      'ssh',
      opensshArgs(relay, 'alice', [...login.args, '-N', '-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:22']),
      login.env,
    );
    const { code } = await ssh.waitForExit();
    expect(code).toBe(255);
    expect(ssh.output).toMatch(/remote port forwarding failed/);
  });

  it('negotiates curve25519 and is offered no Diffie-Hellman group exchange', async () => {
    const ssh = spawnPeer('ssh', opensshArgs(relay, 'bob', [...keyLogin(relay.keys.bob.file), '-vv', '-T']));
    // OpenSSH writes each debug line separately: wait for one that comes after all we check.
    await ssh.waitForOutput(/SSH2_MSG_NEWKEYS received/);
    const offered = /peer server KEXINIT proposal\s*\ndebug2: KEX algorithms: (\S+)/.exec(ssh.output)?.[1] ?? '';
    expect(offered.split(',')).toContain('curve25519-sha256');
    expect(offered).not.toMatch(/diffie-hellman/);
    expect(ssh.output).toMatch(/kex: algorithm: curve25519-sha256/);
    expect(ssh.output).toMatch(/kex: host key algorithm: ssh-ed25519/);
  });

  it('can act as an agent: ssh -N -R DEVICE:0:host:port registers a tunnel', async () => {
    const ssh = spawnPeer(
      'ssh',
      opensshArgs(relay, 'lifeline-agent', [
        ...keyLogin(relay.keys.agentA.file),
        '-N',
        '-o',
        'ExitOnForwardFailure=yes',
        '-R',
        `dev1:0:127.0.0.1:9`,
      ]),
    );
    const tunnel = await relay.registrar.until(() => relay.registrar.tunnels.find((t) => t.deviceId === 'dev1'));
    expect(tunnel.tunnelPort).toBeGreaterThanOrEqual(10_000);
    void ssh;
  });
});

describe.skipIf(missingPeers('ssh'))('SSH keepalive', () => {
  it('drops a client that stops answering, after the configured probes', async () => {
    const quick = await startTestRelay({ server: { keepaliveIntervalMs: 200, keepaliveCountMax: 2 } });
    try {
      const ssh = spawnPeer(
        'ssh',
        opensshArgs(quick, 'lifeline-agent', [...keyLogin(quick.keys.agentA.file), '-N', '-R', 'dev1:0:127.0.0.1:9']),
      );
      await quick.registrar.until(() => quick.registrar.tunnels[0]);
      // A frozen client cannot answer keepalives; a live one would have been fine all along.
      ssh.child.kill('SIGSTOP');
      const error = await quick.waitForLog('connection.error', { err: 'Keepalive timeout' }, 5_000);
      expect(error.peer).toBe(quick.registrar.tunnels[0]!.peer);
      ssh.child.kill('SIGKILL');
    } finally {
      await quick.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
