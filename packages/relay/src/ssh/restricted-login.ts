import type { Connection, Session } from 'ssh2';

/** Says no to a request a restricted login may not make (logging it), and rejects it when it can be. */
export type Refuse = (what: string, reject: (() => void) | undefined) => void;

const SESSION_REQUESTS = ['pty', 'shell', 'exec', 'subsystem', 'env', 'x11', 'auth-agent', 'window-change', 'signal', 'sftp'] as const;

/**
 * A login that may do one thing (enrolment's subsystem, a group member's `exec recording`):
 * every global request (forwarding included) and every channel but `session` is refused.
 */
export function refuseOtherChannels(conn: Connection, refuse: Refuse): void {
  conn.on('request', (_accept, reject, name) => refuse(name, reject));
  conn.on('tcpip', (_accept, reject) => refuse('direct-tcpip', reject));
  conn.on('openssh.streamlocal', (_accept, reject) => refuse('direct-streamlocal', reject));
}

/** On such a login's session, every request but `allowed` (whose handler the caller adds) is refused. */
export function refuseOtherSessionRequests(session: Session, allowed: 'exec' | 'subsystem', refuse: Refuse): void {
  for (const request of SESSION_REQUESTS) {
    if (request === allowed) continue;
    session.on(request, (_accept: unknown, reject: (() => void) | undefined) => refuse(request, reject));
  }
}
