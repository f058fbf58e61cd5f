import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { peerText, type Clock, type Logger, type RelayConfig } from '@lifeline/shared/core';
import type { ClientInfo, Connection } from 'ssh2';
import type { InventoryView } from '../inventory/live-inventory.js';
import type { ConsoleBroker } from '../session/console-broker.js';
import { newPerson } from '../session/person.js';
import type { TunnelRegistrar } from '../tunnel/agent-tunnel.js';
import { serveAgentConnection } from './agent-connection.js';
import type { Authenticator, Identity } from './authenticator.js';
import { installBreakRequestAdapter } from './break-request-adapter.js';
import { serveEnrolConnection } from './enrol-connection.js';
import type { EnrolmentService } from '../inventory/enrolment-service.js';
import { servePeerConnection } from './peer-connection.js';
import { servePersonConnection } from './person-connection.js';

/** An enrolling agent sends its one line right after opening the subsystem. */
const ENROL_REQUEST_TIMEOUT_MS = 30_000;

/** What every client connection shares. */
export interface ClientConnectionDeps {
  authenticator: Authenticator;
  /** What an agent's key serves is asked of it at each request. */
  inventory: InventoryView;
  broker: ConsoleBroker;
  tunnels: TunnelRegistrar;
  /** How long a health-check probe may take through a tunnel (`healthCheckTimeoutMs`). */
  probeTimeoutMs: number;
  /** What one logged-in person may make the relay hold (`limits` in relay.yaml). */
  limits: Pick<RelayConfig['limits'], 'sessionsPerConnection' | 'resizesPerSecond'>;
  clock: Clock;
  logger: Logger;
  /** Answers `lifeline-enrol` logins; without it such a login is ended at once. */
  enrolment?: EnrolmentService;
  /** A relay group member: where an agent's request for the group's members goes (group/group-announcer.ts). */
  groupNotices?: (stream: Duplex) => void;
  /** A relay group member: the recordings it lends the other members (ssh/peer-connection.ts). */
  peers?: { recordingsDir: string };
}

/**
 * One SSH client from connect to close: runs authentication, then hands the connection to the
 * person or the agent side depending on who logged in. A throttled address is refused at its
 * first login attempt, not here: at connect we cannot tell a person from an agent, and agents
 * must not be refused for people's failures from the same (NAT) address.
 */
export function handleClientConnection(conn: Connection, info: ClientInfo, deps: ClientConnectionDeps): void {
  const peer = `${info.ip}:${info.port}`;
  const sessionId = randomUUID();
  const logger = deps.logger.child({ peer, sessionId });
  // Before anything else: channel requests must find the adapter in place.
  installBreakRequestAdapter(conn);
  // Console traffic is many small writes: Nagle would hold keystroke echoes back ~40 ms.
  (conn as Connection & { setNoDelay(on: boolean): void }).setNoDelay(true); // in ssh2 1.17, missing from its typings

  // The message may be the peer's own disconnect text; `errLevel`, not `level`, which is pino's.
  conn.on('error', (err: Error & { level?: string }) =>
    logger.info({ event: 'connection.error', err: peerText(err.message), errLevel: err.level }, 'connection error'),
  );
  const closed = new AbortController();
  conn.on('close', () => {
    closed.abort(new Error('connection closed'));
    logger.info({ event: 'connection.close' }, 'connection closed');
  });

  const agentVersion = peerText(info.header.versions.software);
  logger.debug({ event: 'connection.open', client: agentVersion }, 'connection opened');
  conn.on('handshake', (n) =>
    logger.debug(
      { event: 'connection.handshake', kex: n.kex, hostKey: n.serverHostKey, cipher: n.cs.cipher, mac: n.cs.mac },
      'keys exchanged',
    ),
  );

  conn.on('authentication', (ctx) => {
    deps.authenticator
      .authenticate(ctx, { address: info.ip, port: info.port, closed: closed.signal, client: info.header.versions.software }, start)
      .then(
        (outcome) => {
          if (outcome.result === 'blocked') conn.end();
        },
        (err: unknown) => {
          logger.error({ event: 'auth.error', err }, 'authentication failed unexpectedly');
          conn.end();
        },
      );
  });

  // Runs just before ssh2 sends USERAUTH_SUCCESS, so the handlers are there for the first request.
  function start(identity: Identity): void {
    if (identity.kind === 'enrol') {
      const enrolment = deps.enrolment;
      if (!enrolment) return void setImmediate(() => conn.end());
      serveEnrolConnection(conn, {
        who: { publicKey: identity.publicKey, fingerprint: identity.fingerprint, address: info.ip, peer },
        enrolment,
        requestTimeoutMs: ENROL_REQUEST_TIMEOUT_MS,
        logger: logger.child({ user: 'lifeline-enrol', agentFingerprint: identity.fingerprint }),
      });
      return;
    }
    if (identity.kind === 'peer') {
      const peers = deps.peers;
      if (!peers) return void setImmediate(() => conn.end());
      servePeerConnection(conn, { recordingsDir: peers.recordingsDir, logger: logger.child({ user: 'lifeline-relay' }) });
      return;
    }
    if (identity.kind === 'agent') {
      serveAgentConnection(conn, {
        serves: (deviceId) => deps.inventory.current().agentServes(identity.fingerprint, deviceId),
        fingerprint: identity.fingerprint,
        agentVersion,
        peer,
        tunnels: deps.tunnels,
        probeTimeoutMs: deps.probeTimeoutMs,
        ...(deps.groupNotices ? { groupNotices: deps.groupNotices } : {}),
        clock: deps.clock,
        logger: logger.child({ user: 'lifeline-agent', agentFingerprint: identity.fingerprint }),
      });
      return;
    }
    // The login is accepted: who this person is, once, for everything after (session/person.ts).
    servePersonConnection(conn, {
      person: newPerson({ user: identity.user, sessionId, peer, attachAs: identity.attachAs }),
      deviceId: identity.deviceId,
      broker: deps.broker,
      escapeByte: identity.escapeByte,
      sessionsPerConnection: deps.limits.sessionsPerConnection,
      resizesPerSecond: deps.limits.resizesPerSecond,
      clock: deps.clock,
      logger: deps.logger,
    });
  }
}
