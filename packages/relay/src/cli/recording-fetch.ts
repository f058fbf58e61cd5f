import ssh2 from 'ssh2';
import { LifelineError, PEER_LOGIN_NAME, peerText, type SshKeyPair } from '@lifeline/shared';
import { RECORDING_COMMAND } from '../ssh/peer-connection.js';
import { RELAY_SSH_ALGORITHMS } from '../ssh/relay-ssh-server.js';

export interface RecordingFetch {
  /** The member holding the file: its advertised `host:port`, as the group's index lists it. */
  relay: string;
  /** The file's path on that member. */
  path: string;
  /** The group's host key (relay.yaml `hostKeyFile`): the login, and the only host key accepted. */
  hostKey: SshKeyPair;
  /** Given up when the member says nothing for this long (connecting, or between two pieces of the file). */
  timeoutMs?: number;
  /** A recording larger than this is refused rather than held in memory. */
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/**
 * A recording from another member of the relay group, over SSH: logged in as `lifeline-relay`
 * with the group's host key, the member's key pinned to the same key, `exec recording PATH`
 * (ssh/peer-connection.ts). Rejects with LifelineError RECORDING_UNAVAILABLE and the member's
 * answer or what failed.
 */
export function fetchRecording(options: RecordingFetch): Promise<Buffer> {
  const colon = options.relay.lastIndexOf(':');
  const host = options.relay.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(options.relay.slice(colon + 1));
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const groupKey = Buffer.from(options.hostKey.publicKeyLine.split(' ')[1] ?? '', 'base64');
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let settled = false;
    const finish = (result: Buffer | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      if (result instanceof Error)
        reject(new LifelineError('RECORDING_UNAVAILABLE', `${options.relay}: ${result.message}`, { cause: result }));
      else resolve(result);
    };
    const timer = setTimeout(() => finish(new Error(`no answer for ${timeoutMs / 1000} s`)), timeoutMs);
    client.on('error', (err) => finish(err));
    client.on('ready', () => {
      client.exec(`${RECORDING_COMMAND} ${options.path}`, (err, stream) => {
        if (err) return finish(err);
        const chunks: Buffer[] = [];
        let bytes = 0;
        let stderr = '';
        let exitCode: number | undefined;
        stream.on('data', (chunk: Buffer) => {
          timer.refresh();
          bytes += chunk.length;
          if (bytes > maxBytes) return finish(new Error(`the recording is larger than ${maxBytes} bytes`));
          chunks.push(chunk);
        });
        stream.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(0, 1000)));
        stream.on('exit', (code: number | null) => (exitCode = code ?? undefined));
        stream.on('close', () =>
          finish(
            exitCode === 0 ? Buffer.concat(chunks, bytes) : new Error(peerText(stderr.trim()) || 'the member did not send the recording'),
          ),
        );
      });
    });
    client.connect({
      host,
      port,
      username: PEER_LOGIN_NAME,
      privateKey: options.hostKey.privateKey,
      // The member must hold the group's key: the same one this member has.
      hostVerifier: (key: Buffer) => key.equals(groupKey),
      algorithms: RELAY_SSH_ALGORITHMS,
      readyTimeout: timeoutMs,
    });
  });
}
