import { peerText, type Logger } from '@lifeline/shared/core';
import type { ServerChannel, Session } from 'ssh2';
import type { ConsoleRequest, TerminalSize } from '../session/console-broker.js';
import { onBreakRequest, type BreakListener } from './break-request-adapter.js';

/** What the session's SSH requests drive; the rest of a person's session lives behind these. */
export interface SessionRequestHandlers {
  /** `shell`: the one console channel of this session, accepted. Called at most once. */
  shell(channel: ServerChannel): void;
  /** `window-change`, every one (the caller coalesces them). */
  resize(size: TerminalSize): void;
  /** `break` (RFC 4335), with its accept and reject. */
  break: BreakListener;
  /** The session channel closed. */
  close(): void;
}

/** What the requests have told so far. */
export interface SessionRequestState {
  /** From pty-req, kept current by window-change; undefined without a pty. */
  readonly term: ConsoleRequest['term'];
}

/**
 * The SSH requests of one person's session channel: keeps the pty's terminal type and size,
 * accepts `shell` once (after it, no pty), passes window changes and breaks on, and refuses
 * everything that is not a console (exec, sftp and other subsystems, X11, agent forwarding,
 * signals), logging each refusal (never an exec's command: people put secrets in command lines).
 * `session` must come from a connection with the break adapter installed (break-request-adapter.ts).
 */
export function handleSessionRequests(session: Session, logger: Logger, handlers: SessionRequestHandlers): SessionRequestState {
  const state: { term: ConsoleRequest['term'] } = { term: undefined };
  let shellAccepted = false;

  session.on('pty', (accept, reject, info) => {
    if (shellAccepted) return refuseRequest(logger, 'pty-req after shell', reject);
    // ssh2 passes TERM as `term` (missing from its typings); the modes it parses are always {}.
    const name = (info as typeof info & { term?: string }).term || 'vt100';
    state.term = { name, size: { cols: info.cols, rows: info.rows } };
    accept?.();
  });
  session.on('window-change', (accept, _reject, info) => {
    if (state.term) state.term = { name: state.term.name, size: { cols: info.cols, rows: info.rows } };
    handlers.resize({ cols: info.cols, rows: info.rows });
    accept?.();
  });
  // Harmless, and OpenSSH sends LANG and friends unasked.
  session.on('env', (accept) => accept?.());
  session.on('x11', (_a, reject) => refuseRequest(logger, 'x11-req', reject, 'debug'));
  session.on('auth-agent', (_a, reject) => refuseRequest(logger, 'auth-agent-req', reject, 'debug'));
  session.on('signal', (_a, reject) => refuseRequest(logger, 'signal', reject, 'debug'));
  // Not the command itself: people put secrets in command lines.
  session.on('exec', (_a, reject) => refuseRequest(logger, 'exec', reject));
  session.on('sftp', (_a, reject) => refuseRequest(logger, 'subsystem sftp', reject));
  session.on('subsystem', (_a, reject, info) => refuseRequest(logger, `subsystem ${peerText(info.name)}`, reject));

  onBreakRequest(session, handlers.break);

  session.on('shell', (accept, reject) => {
    if (shellAccepted) return refuseRequest(logger, 'second shell', reject);
    shellAccepted = true;
    const channel = accept();
    channel.on('error', (err: Error) => logger.debug({ event: 'session.channel-error', err }, 'session channel error'));
    handlers.shell(channel);
  });

  session.on('close', () => handlers.close());
  return state;
}

/** Refuses one request and logs it (`what` must already be safe to log). */
export function refuseRequest(logger: Logger, what: string, reject: (() => void) | undefined, level: 'debug' | 'info' = 'info'): void {
  logger[level]({ event: 'session.request.refused', request: what }, `refused ${what} request`);
  reject?.();
}
