import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { peerText, type Logger } from '@lifeline/shared/core';
import type { Connection, ServerChannel } from 'ssh2';
import { refuseOtherChannels, refuseOtherSessionRequests } from './restricted-login.js';

/** The one command a peer may run: `recording PATH` sends the file (a recording in this member's recordingsDir). */
export const RECORDING_COMMAND = 'recording';

export interface PeerConnectionOptions {
  /** This member's recordingsDir (absolute): the only files a peer may read. */
  recordingsDir: string;
  logger: Logger;
}

/**
 * A connection from another member of the group (PEER_LOGIN_NAME, `lifeline-relay`, with the
 * group's host key: every member has it, so no further secret exists to leak):
 * session channels whose one request is `exec recording PATH`, which sends the recording's bytes
 * on stdout and exits 0, or one line on stderr and exits 1. No pty, shell, subsystem, env,
 * forwarding or any other channel: a member lends its recordings to the others and nothing else
 * (replay on any member, docs/operations.md).
 */
export function servePeerConnection(conn: Connection, options: PeerConnectionOptions): void {
  const { logger } = options;
  const refuse = (what: string, reject: (() => void) | undefined) => {
    logger.warn({ event: 'peer.request.refused', request: peerText(what) }, `refused ${peerText(what)} from a group member`);
    reject?.();
  };
  refuseOtherChannels(conn, refuse);
  conn.on('session', (accept) => {
    const session = accept();
    refuseOtherSessionRequests(session, 'exec', refuse);
    session.on('exec', (acceptExec, rejectExec, info) => {
      const [command, path] = splitCommand(info.command);
      if (command !== RECORDING_COMMAND || path === undefined) return refuse(`exec ${info.command}`, rejectExec);
      void sendRecording(acceptExec(), path, options);
    });
  });
}

function splitCommand(line: string): [string, string | undefined] {
  const space = line.indexOf(' ');
  return space === -1 ? [line, undefined] : [line.slice(0, space), line.slice(space + 1)];
}

async function sendRecording(channel: ServerChannel, requested: string, options: PeerConnectionOptions): Promise<void> {
  channel.on('error', () => undefined);
  let file: string;
  try {
    file = await recordingFile(options.recordingsDir, requested);
  } catch (err) {
    options.logger.warn(
      { event: 'peer.recording.refused', path: peerText(requested), reason: (err as Error).message },
      'refused a recording to a group member',
    );
    channel.stderr.write(`${(err as Error).message}\n`);
    channel.exit(1);
    channel.end();
    return;
  }
  options.logger.info({ event: 'peer.recording', path: file }, 'sending a recording to a group member');
  try {
    await pipeline(createReadStream(file), channel, { end: false });
    channel.exit(0);
  } catch (err) {
    options.logger.warn({ event: 'peer.recording.failed', path: file, err }, 'sending a recording to a group member failed');
    channel.exit(1);
  }
  channel.end();
}

/**
 * The recording `requested` names, if it is one: an absolute path to a `.cast` file that is,
 * after every symbolic link, inside `recordingsDir`. Throws with the reason otherwise.
 */
export async function recordingFile(recordingsDir: string, requested: string): Promise<string> {
  if (!isAbsolute(requested) || !requested.endsWith('.cast')) throw new Error(`${peerText(requested)}: not a recording path`);
  const root = await realpath(recordingsDir);
  const file = await realpath(requested).catch(() => {
    throw new Error(`${peerText(requested)}: no such recording on this relay`);
  });
  if (!file.startsWith(root + sep) || !(await stat(file)).isFile())
    throw new Error(`${peerText(requested)}: not a recording of this relay`);
  return file;
}
