import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprintOfBlob, generateParsableEd25519, isLifelineError } from '@lifeline/shared';
import { checkRelayHostKey } from './check-relay.js';

const hostPair = generateParsableEd25519('relay');
const hostFingerprint = fingerprintOfBlob((ssh2.utils.parseKey(hostPair.public) as ssh2.ParsedKey).getPublicSSH());
const otherFingerprint = fingerprintOfBlob((ssh2.utils.parseKey(generateParsableEd25519('other').public) as ssh2.ParsedKey).getPublicSSH());

describe('checkRelayHostKey', () => {
  let servers: Array<ssh2.Server | Server> = [];
  let authAttempts = 0;
  afterEach(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    servers = [];
    authAttempts = 0;
  });

  /** A real ssh2 server with the relay's host key, counting authentication attempts. */
  async function relay(): Promise<number> {
    const server = new ssh2.Server({ hostKeys: [hostPair.private] }, (conn) => {
      conn.on('authentication', (ctx) => {
        authAttempts += 1;
        ctx.reject();
      });
      conn.on('error', () => undefined);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('accepts the pinned key and stops before authenticating', async () => {
    const port = await relay();
    await expect(checkRelayHostKey({ host: '127.0.0.1', port, hostKey: hostFingerprint, timeoutMs: 5_000 })).resolves.toEqual({
      relay: `127.0.0.1:${port}`,
      fingerprint: hostFingerprint,
    });
    expect(authAttempts).toBe(0);
  });

  it('names the key the relay presents and the one agent.yaml pins on a mismatch', async () => {
    const port = await relay();
    const err = await checkRelayHostKey({ host: '127.0.0.1', port, hostKey: otherFingerprint, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'TUNNEL_HOSTKEY_MISMATCH')).toBe(true);
    expect((err as Error).message).toBe(
      `relay 127.0.0.1:${port} presents ${hostFingerprint}, agent.yaml pins ${otherFingerprint} (relay.hostKey)`,
    );
    expect(authAttempts).toBe(0);
  });

  it('says the relay cannot be reached when nothing listens', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const err = await checkRelayHostKey({ host: '127.0.0.1', port, hostKey: hostFingerprint, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'TUNNEL_CONNECT_FAILED')).toBe(true);
    expect((err as Error).message).toContain(`cannot reach relay 127.0.0.1:${port}`);
  });

  it('gives up on a relay that never shows its key', async () => {
    // Accepts the TCP connection and says nothing, like a stalled link.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket.on('error', () => undefined)));
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const err = await checkRelayHostKey({ host: '127.0.0.1', port, hostKey: hostFingerprint, timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(isLifelineError(err, 'TUNNEL_CONNECT_FAILED')).toBe(true);
    expect(Date.now() - started).toBeLessThan(4_000);
    for (const socket of sockets) socket.destroy();
  });
});
