import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../../dist/tunnel/', import.meta.url));

/**
 * A fresh Node.js (this test's: 20 or 24) with or without the skip: an ssh2 client offering
 * AGENT_CIPHERS logs in to an ssh2 server on loopback and says what it negotiated and how much
 * memory outside the JS heap the process holds (the wasm poly1305's 16 MiB would be there).
 */
interface Handshake {
  skipped: string[];
  cipher: string;
  externalMiB: number;
  https: boolean;
}

async function handshake(skip: boolean): Promise<Handshake> {
  const script = `
    import { createRequire } from 'node:module';
    import { AGENT_CIPHERS } from ${JSON.stringify(`${dist}ssh2-ciphers.js`)};
    import { installSsh2StandIns } from ${JSON.stringify(`${dist}ssh2-stand-ins.js`)};
    const skipped = ${skip} ? installSsh2StandIns() : [];
    const ssh2 = createRequire(${JSON.stringify(dist)})('ssh2');
    const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
    const server = new ssh2.Server({ hostKeys: [hostKey] }, (conn) => {
      conn.on('authentication', (ctx) => ctx.accept());
      conn.on('error', () => {});
    });
    server.listen(0, '127.0.0.1', () => {
      const client = new ssh2.Client();
      let cipher;
      client.on('handshake', (n) => (cipher = n.cs.cipher));
      client.on('ready', () => {
        globalThis.gc?.();
        const https = process.moduleLoadList.includes('NativeModule https');
        process.stdout.write(JSON.stringify({ skipped, cipher, externalMiB: process.memoryUsage().external / 1048576, https }));
        client.end();
        server.close();
      });
      client.on('error', (err) => { console.error(err.message); process.exit(1); });
      client.connect({ host: '127.0.0.1', port: server.address().port, username: 'x', algorithms: { cipher: AGENT_CIPHERS } });
    });`;
  const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { timeout: 20_000 });
  return JSON.parse(stdout) as Handshake;
}

describe("ssh2 with the agent's stand-ins and ciphers", () => {
  it('logs in with AES-GCM without the WebAssembly poly1305 (16 MiB) and without http/https', async () => {
    const lean = await handshake(true);
    const full = await handshake(false);
    expect(lean).toMatchObject({
      skipped: ['ssh2/lib/protocol/crypto/poly1305.js', 'ssh2/lib/http-agents.js'],
      cipher: 'aes128-gcm@openssh.com',
      https: false,
    });
    expect(full).toMatchObject({ cipher: 'aes128-gcm@openssh.com', https: true });
    expect(full.externalMiB - lean.externalMiB).toBeGreaterThan(12);
  });
});
