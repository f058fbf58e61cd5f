import type { CipherAlgorithm } from 'ssh2';

/**
 * The ciphers the agent offers the relay: ssh2's defaults without chacha20-poly1305, in ssh2's
 * order (AES-GCM first, which is what ssh2 picks anyway unless the CPU lacks AES and ssh2's own
 * native binding is built; the release package ships without that binding). Leaving chacha20
 * out means the agent never needs ssh2's WebAssembly poly1305, so it need not load it
 * (ssh2-stand-ins.ts).
 */
export const AGENT_CIPHERS: CipherAlgorithm[] = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
];
