import { ENROL_SUBSYSTEM, MAX_ENROL_LINE_BYTES, enrolLine, peerText, type EnrolAnswer, type Logger } from '@lifeline/shared/core';
import type { Connection, ServerChannel } from 'ssh2';
import { LineSplitter } from '../admin/admin-protocol.js';
import { refuseOtherChannels, refuseOtherSessionRequests } from './restricted-login.js';
import type { Enrollee, EnrolmentService } from '../inventory/enrolment-service.js';

export interface EnrolConnectionOptions {
  who: Enrollee;
  enrolment: EnrolmentService;
  /** How long the agent has to send its line once the subsystem is open. */
  requestTimeoutMs: number;
  logger: Logger;
}

/**
 * A connection logged in as `lifeline-enrol`: one session channel, the subsystem
 * `lifeline-enrol@lifeline` on it, one request line in, one answer line out, then the connection
 * ends. No pty, shell, exec, env, forwarding or any other channel (docs/protocol.md, "Enrolment").
 * A line longer than MAX_ENROL_LINE_BYTES is refused without being held.
 */
export function serveEnrolConnection(conn: Connection, options: EnrolConnectionOptions): void {
  const { logger } = options;
  let used = false;
  const refuse = (what: string, reject: (() => void) | undefined) => {
    logger.warn({ event: 'enrol.request.refused', request: peerText(what) }, `refused ${peerText(what)} from the enrolment user`);
    reject?.();
  };
  refuseOtherChannels(conn, refuse);
  conn.on('session', (accept, reject) => {
    if (used) return refuse('second session', reject);
    used = true;
    const session = accept();
    refuseOtherSessionRequests(session, 'subsystem', refuse);
    session.on('subsystem', (acceptSub, rejectSub, info) => {
      if (info.name !== ENROL_SUBSYSTEM) return refuse(`subsystem ${info.name}`, rejectSub);
      serveRequest(acceptSub(), conn, options);
    });
  });
}

/** Reads one line, answers it, ends the connection. */
function serveRequest(channel: ServerChannel, conn: Connection, options: EnrolConnectionOptions): void {
  const splitter = new LineSplitter(MAX_ENROL_LINE_BYTES);
  let done = false;
  const timer = setTimeout(() => finish(undefined), options.requestTimeoutMs);
  const finish = (answer: EnrolAnswer | undefined) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (answer) channel.write(enrolLine(answer));
    channel.exit(answer?.result === 'refused' || answer === undefined ? 1 : 0);
    channel.end();
    // Give the answer time to leave before the connection goes; the agent hangs up itself anyway.
    setTimeout(() => conn.end(), 200).unref();
  };
  channel.on('error', () => undefined);
  channel.on('data', (chunk: Buffer) => {
    if (done) return;
    const { lines, tooLong } = splitter.push(chunk);
    const line = lines[0] ?? (tooLong ? 'x'.repeat(MAX_ENROL_LINE_BYTES + 1) : undefined);
    if (line === undefined) return;
    channel.pause();
    options.enrolment.answer(line, options.who).then(finish, (err: unknown) => {
      options.logger.error({ event: 'enrol.failed', err }, 'enrolment failed: the inventory store did not answer');
      finish(undefined);
    });
  });
}
