import type { Duplex } from 'node:stream';
import { decodeProbe, encodeProbe, readProbeLine } from '@lifeline/shared/core';

/**
 * The agent's end of its own loopback health check: answers a probe that came in through the
 * tunnel only if it carries a nonce this agent's checker is waiting for. Anything else (a stale
 * probe, someone else's, garbage) gets no answer, so only the real round trip can pass.
 */
export class ProbeResponder {
  private readonly pending = new Set<string>();

  /** The checker is about to send `nonce`; returns a function that stops waiting for it. */
  expect(nonce: string): () => void {
    this.pending.add(nonce);
    return () => this.pending.delete(nonce);
  }

  /** A stream the relay opened with the probe originator address. */
  answer(stream: Duplex): void {
    stream.on('error', () => undefined);
    void readProbeLine(stream).then((line) => {
      const nonce = line === undefined ? undefined : decodeProbe(line);
      if (nonce !== undefined && this.pending.has(nonce)) stream.end(encodeProbe(nonce));
      else stream.destroy();
    });
  }
}
