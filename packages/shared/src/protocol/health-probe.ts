import { randomBytes } from 'node:crypto';

/**
 * The loopback health check (docs/protocol.md): an agent opens a `direct-tcpip` channel to its
 * own device id on its tunnel's SSH connection; the relay opens a
 * fresh stream through the device's registered tunnel, with this originator address so the agent
 * tells it from a console stream, and joins the two. The agent sends one probe line and passes
 * only if the same line comes back, i.e. the whole path the relay uses for people works.
 */
export const PROBE_ORIGIN = 'lifeline-probe';

const PREFIX = 'LIFELINE-PROBE ';
/** A probe line is short; anything longer is not one. */
export const MAX_PROBE_LINE = 128;

export function newProbeNonce(): string {
  return randomBytes(16).toString('hex');
}

export function encodeProbe(nonce: string): Buffer {
  return Buffer.from(`${PREFIX}${nonce}\n`, 'ascii');
}

/** The nonce of a complete probe line (without its newline), or undefined if it is not one. */
export function decodeProbe(line: string): string | undefined {
  if (!line.startsWith(PREFIX)) return undefined;
  const nonce = line.slice(PREFIX.length);
  return /^[0-9a-f]{32}$/.test(nonce) ? nonce : undefined;
}

/**
 * Collects bytes until the first newline; resolves with the line (no newline), or undefined when
 * the stream ends, errs, or sends more than `maxBytes` without one.
 */
export function readLine(stream: NodeJS.ReadableStream, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const done = (line: string | undefined) => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('close', onEnd);
      stream.removeListener('error', onEnd);
      resolve(line);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const newline = text.indexOf('\n');
      if (newline >= 0) done(text.slice(0, newline));
      else if (text.length > maxBytes) done(undefined);
    };
    const onEnd = () => done(undefined);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onEnd);
  });
}

/** One probe line (see readLine); a probe line is short. */
export function readProbeLine(stream: NodeJS.ReadableStream): Promise<string | undefined> {
  return readLine(stream, MAX_PROBE_LINE);
}
