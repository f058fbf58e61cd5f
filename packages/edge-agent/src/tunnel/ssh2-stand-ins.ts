import { createRequire, Module } from 'node:module';

const require = createRequire(import.meta.url);

/** Something ssh2 would load that the agent never uses: a value that fails loudly if it ever is. */
const notLoaded = (what: string) => () => {
  throw new Error(`${what} is not loaded in lifeline-agent (ssh2-stand-ins.ts)`);
};

/**
 * Parts of ssh2 (1.17, pinned) the agent never uses but ssh2 loads at import, by file, with what
 * stands in for them:
 * - its WebAssembly poly1305, instantiated at load (16 MiB of wasm memory, about 2 MiB RSS), used
 *   only for chacha20-poly1305 without ssh2's native binding, which the agent never offers
 *   (AGENT_CIPHERS): a factory whose MAC function throws;
 * - its HTTP(S) agents over SSH, which load `http` and `https` (1-3 MiB): classes that throw.
 */
const STAND_INS: Record<string, () => unknown> = {
  'ssh2/lib/protocol/crypto/poly1305.js': () => () =>
    Promise.resolve({ _malloc: () => 0, cwrap: () => notLoaded('poly1305 (WebAssembly; chacha20-poly1305 is not offered)') }),
  'ssh2/lib/http-agents.js': () => ({ SSHTTPAgent: notLoaded("ssh2's HTTPAgent"), SSHTTPSAgent: notLoaded("ssh2's HTTPSAgent") }),
};

/**
 * Puts the stand-ins into the CommonJS module cache under the real files' names, so ssh2's own
 * `require()` of them gets the stand-in (issue 11: about 3-5 MiB less RSS). Must run before
 * anything imports ssh2 (main.ts imports lean-start.ts first); a file ssh2 has already loaded is
 * left as it is. Returns the files stood in.
 */
export function installSsh2StandIns(): string[] {
  const done: string[] = [];
  for (const [request, make] of Object.entries(STAND_INS)) {
    const file = require.resolve(request);
    if (require.cache[file]) continue;
    const standIn = new Module(file);
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = make();
    require.cache[file] = standIn;
    done.push(request);
  }
  return done;
}
