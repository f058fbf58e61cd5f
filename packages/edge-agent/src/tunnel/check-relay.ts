import ssh2 from 'ssh2';
import { AGENT_LOGIN_NAME, LifelineError } from '@lifeline/shared/core';
import { HostKeyPin } from './host-key-pin.js';
import { AGENT_CIPHERS } from './ssh2-ciphers.js';

export interface CheckRelayOptions {
  host: string;
  port: number;
  /** The fingerprint agent.yaml pins (`relay.hostKey`). */
  hostKey: string;
  /** Gives up after this long without the relay's host key. */
  timeoutMs: number;
}

/**
 * Connects to the relay only as far as the SSH key exchange and checks its host key with the
 * same HostKeyPin the tunnel uses. It never authenticates (the agent's key need not exist or be
 * enrolled yet): the connection is dropped as soon as the key has been seen.
 *
 * @returns the relay's "host:port" and the fingerprint it presented, when that is the pinned one.
 * @throws LifelineError TUNNEL_HOSTKEY_MISMATCH (naming both fingerprints) when it presents
 * another key; TUNNEL_CONNECT_FAILED when it cannot be reached or shows no key in time.
 */
export function checkRelayHostKey(options: CheckRelayOptions): Promise<{ relay: string; fingerprint: string }> {
  const relay = `${options.host}:${options.port}`;
  const pin = new HostKeyPin(options.hostKey);
  const client = new ssh2.Client();
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      const seen = pin.seen;
      if (seen === undefined) {
        reject(
          new LifelineError('TUNNEL_CONNECT_FAILED', `cannot reach relay ${relay}: ${err?.message ?? 'closed before its host key'}`, {
            cause: err,
          }),
        );
      } else if (pin.mismatched) {
        reject(pin.mismatchError(relay));
      } else {
        resolve({ relay, fingerprint: seen });
      }
    };
    client.on('error', (err) => settle(err));
    client.on('close', () => settle());
    client.connect({
      host: options.host,
      port: options.port,
      username: AGENT_LOGIN_NAME,
      readyTimeout: options.timeoutMs,
      algorithms: { cipher: AGENT_CIPHERS },
      // Seen is enough: refuse every key, so the handshake stops before any authentication.
      hostVerifier: (key: Buffer) => {
        pin.verify(key);
        return false;
      },
    });
  });
}
