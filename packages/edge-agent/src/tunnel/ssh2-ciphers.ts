import { createRequire, Module } from 'node:module';
import type { CipherAlgorithm } from 'ssh2';

/**
 * The ciphers the agent offers the relay: ssh2's defaults without chacha20-poly1305, in ssh2's
 * order (AES-GCM first, which is what ssh2 picks anyway unless the CPU lacks AES and ssh2's own
 * native binding is built; the release package ships without that binding). Leaving chacha20
 * out means the agent never needs ssh2's WebAssembly poly1305, so it need not load it
 * (skipWasmPoly1305).
 */
export const AGENT_CIPHERS: CipherAlgorithm[] = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
];

const WASM_POLY1305 = 'ssh2/lib/protocol/crypto/poly1305.js';

/**
 * Keeps ssh2 (1.17, pinned) from instantiating its WebAssembly poly1305 when its crypto module
 * loads: that instance reserves 16 MiB of wasm memory and costs the idle agent about 2 MiB RSS,
 * for a MAC only chacha20-poly1305 without the native binding uses, which the agent never
 * offers (AGENT_CIPHERS). Puts a stand-in into the CommonJS module cache under the file's own
 * name, so ssh2's `require('./crypto/poly1305.js')` gets it. Should that MAC ever be called
 * anyway, it throws (the connection fails) instead of computing something wrong.
 *
 * Must run before anything imports ssh2 (main.ts imports this module first). Returns false,
 * changing nothing, when ssh2 has already loaded the real one.
 */
export function skipWasmPoly1305(): boolean {
  const require = createRequire(import.meta.url);
  const file = require.resolve(WASM_POLY1305);
  if (require.cache[file]) return false;
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = () =>
    Promise.resolve({
      _malloc: () => 0,
      cwrap: () => () => {
        throw new Error('poly1305 (WebAssembly) is not loaded in lifeline-agent: chacha20-poly1305 is not offered');
      },
    });
  require.cache[file] = standIn;
  return true;
}
