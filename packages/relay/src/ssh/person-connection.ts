import { peerText, type Logger } from '@lifeline/shared';
import type { Connection, ServerChannel, Session } from 'ssh2';
import type { ConsoleBroker } from '../session/console-broker.js';
import { servePersonSession, type PersonSession } from './person-session.js';

export interface PersonConnectionOptions {
  user: string;
  deviceId: string | undefined;
  watch: boolean;
  sessionId: string;
  peer: string;
  broker: ConsoleBroker;
  escapeByte: number | undefined;
  /** Child logger carrying peer, user and sessionId. */
  logger: Logger;
}

const ONE_SESSION = 'lifeline: this connection already has a console session; open a new ssh connection for another.';

/**
 * A person's authenticated connection: one console session at a time (a later one may follow
 * once it has ended, as with OpenSSH connection sharing), and no forwarding of any kind.
 */
export function servePersonConnection(conn: Connection, options: PersonConnectionOptions): void {
  const { logger } = options;
  let active: PersonSession | undefined;

  conn.on('session', (accept) => {
    const session = accept();
    if (active) {
      refuseExtraSession(session, logger);
      return;
    }
    const current = servePersonSession({ ...options, session, logger });
    active = current;
    session.once('close', () => {
      if (active === current) active = undefined;
    });
  });
  conn.on('close', () => active?.dispose('connection closed'));

  // Request names, destinations and socket paths are the client's text.
  const refused = (what: string, detail: Record<string, string>) =>
    logger.info(
      { event: 'person.request.refused', request: peerText(what), ...Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, peerText(v)])) },
      `refused ${peerText(what)} from a person`,
    );
  conn.on('tcpip', (_accept, reject, info) => {
    refused('direct-tcpip', { destination: `${info.destIP}:${info.destPort}` });
    reject();
  });
  conn.on('openssh.streamlocal', (_accept, reject, info) => {
    refused('direct-streamlocal', { socketPath: info.socketPath });
    reject();
  });
  conn.on('request', (_accept: unknown, reject: (() => void) | undefined, name: string) => {
    refused(name, {});
    reject?.();
  });
}

/** Says why in words rather than a bare channel-open failure, then ends with status 1. */
function refuseExtraSession(session: Session, logger: Logger): void {
  logger.info({ event: 'session.refused', reason: 'one session per connection' }, 'refused a second session channel');
  session.on('pty', (accept) => accept?.());
  session.on('env', (accept) => accept?.());
  const explain = (accept: () => ServerChannel) => {
    const channel = accept();
    channel.on('error', () => undefined);
    channel.write(`${ONE_SESSION}\r\n`);
    channel.exit(1);
    channel.end();
  };
  session.on('shell', (accept) => explain(accept));
  session.on('exec', (accept) => explain(accept));
}
