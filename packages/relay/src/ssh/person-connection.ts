import { randomUUID } from 'node:crypto';
import { peerText, type Clock, type Logger } from '@lifeline/shared/core';
import type { Connection } from 'ssh2';
import type { ConsoleBroker } from '../session/console-broker.js';
import { nextConsoleSession, personLogFields, type Person } from '../session/person.js';
import { gateChannelOpens } from './channel-open-gate.js';
import { servePersonSession, type PersonSession } from './person-session.js';

export interface PersonConnectionOptions {
  /** Who logged in (made once, at the accepted login); its session id is the first console session's. */
  person: Person;
  /** From a `USER:DEVICE` login; undefined for plain `USER`. */
  deviceId: string | undefined;
  broker: ConsoleBroker;
  escapeByte: number | undefined;
  /** Console sessions this connection may have open at once (`limits.sessionsPerConnection`). */
  sessionsPerConnection: number;
  /** Window-size changes applied per second per session (`limits.resizesPerSecond`). */
  resizesPerSecond: number;
  clock: Clock;
  /** The SSH server's logger; the connection adds the person's fields (personLogFields). */
  logger: Logger;
}

/** Refused forwarding and global requests logged per connection; the rest are refused silently. */
const MAX_REFUSALS_LOGGED = 10;

/**
 * A person's authenticated connection: up to `sessionsPerConnection` console sessions at once
 * (OpenSSH ControlMaster runs every ssh to the same login through one connection, so a second
 * terminal gets what it would get on a connection of its own), and no forwarding of any kind.
 * A session channel past the limit is refused at open, with the reason, before ssh2 allocates
 * anything for it: a client opening thousands of channels costs the relay one log line.
 */
export function servePersonConnection(conn: Connection, options: PersonConnectionOptions): void {
  const { person, sessionsPerConnection: limit } = options;
  const logger = options.logger.child(personLogFields(person));
  const sessions = new Set<PersonSession>();
  let toldLimit = false;

  gateChannelOpens(conn, (type) => {
    if (type !== 'session' || sessions.size < limit) return undefined;
    if (!toldLimit)
      logger.info(
        { event: 'session.limit', limit },
        `refused a session channel: ${limit} console sessions already open on this connection (logged once per connection)`,
      );
    toldLimit = true;
    return `lifeline: at most ${limit} console sessions at once on one connection; close one, or open a new ssh connection (with ControlMaster: ssh -S none).`;
  });

  conn.on('session', (accept) => {
    const session = accept();
    // The login's session id, unless another session of it is open: each console session needs
    // its own (recording names, the audit log, lifeline-relay sessions). Its lines share the peer.
    const own = sessions.size === 0 ? person : nextConsoleSession(person, randomUUID());
    const current = servePersonSession({
      ...options,
      person: own,
      session,
      logger: own === person ? logger : options.logger.child(personLogFields(own)),
    });
    sessions.add(current);
    session.once('close', () => sessions.delete(current));
  });
  conn.on('close', () => {
    for (const s of sessions) s.dispose('connection closed');
  });

  // Request names, destinations and socket paths are the client's text. The first few refusals
  // of a connection are logged: a client repeating them thousands of times must not flood the log.
  let refusalsLogged = 0;
  const refused = (what: string, detail: Record<string, string>) =>
    refusalsLogged++ < MAX_REFUSALS_LOGGED &&
    logger.info(
      {
        event: 'person.request.refused',
        request: peerText(what),
        ...Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, peerText(v)])),
      },
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
