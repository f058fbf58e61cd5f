import type { Duplex } from 'node:stream';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { systemClock, type Clock, type Logger, type RelayConfig } from '@lifeline/shared/core';
import ssh2 from 'ssh2';
import type { ConsoleBroker } from '../session/console-broker.js';
import type { TunnelRegistrar } from '../tunnel/agent-tunnel.js';
import { EMPTY_LEARNED, Inventory } from '../inventory/inventory.js';
import { fixedInventory, type InventoryView } from '../inventory/live-inventory.js';
import { Authenticator } from './authenticator.js';
import type { EnrolmentService } from '../inventory/enrolment-service.js';
import { handleClientConnection } from './client-connection.js';
import { HashGate } from './hash-gate.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordChecker, type VerifyPassword } from './password-checker.js';
import { PreauthLimiter } from './preauth-limiter.js';
import { parsedHostKey } from './host-key.js';

/**
 * How long a stopping relay waits for clients to hang up after it ended their connections before
 * it cuts the sockets: long enough for a goodbye to be delivered, short enough for systemd's stop.
 */
const CLOSE_GRACE_MS = 2_000;

export interface RelaySshServerOptions {
  config: RelayConfig;
  /**
   * Who may log in and what agents serve, read at each use (a reload applies to the next login);
   * without it, a fixed inventory built from `config`.
   */
  inventory?: InventoryView;
  /** Ed25519 host private key, OpenSSH format. */
  hostKey: Buffer;
  broker: ConsoleBroker;
  tunnels: TunnelRegistrar;
  logger: Logger;
  clock?: Clock;
  /** SSH keepalive towards clients: interval and unanswered probes before dropping (relay.yaml `keepalive`). */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** How long close() waits for clients to hang up before cutting their sockets (tests only; CLOSE_GRACE_MS). */
  closeGraceMs?: number;
  /** Password hashing (tests count hashes through it); default password-hash.ts's verifyPassword. */
  verifyPassword?: VerifyPassword;
  /**
   * Connections held at once (open-file-limit.ts derives it from RLIMIT_NOFILE); past it new
   * ones are closed at accept and logged (`ssh.connection-limit`, at most once per 10 s). None by default.
   */
  maxConnections?: number;
  /** Makes the enrolment service from the people's throttle (token guesses count as failed logins); none: no enrolment. */
  enrolment?: (throttle: LoginThrottle) => EnrolmentService;
  /** A relay group member: answers agents' requests for the member list (docs/protocol.md); none: refused. */
  groupNotices?: (stream: Duplex) => void;
  /**
   * A relay group member: other members log in as `lifeline-relay` with the group's host key and
   * may fetch the recordings in `recordingsDir` (peer-connection.ts); none: that login is refused.
   */
  peers?: { recordingsDir: string };
}

export interface RelaySshServer {
  /** Binds `config.listen` (port 0 picks a free port). Rejects if the address is unusable. */
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting, disconnects every client and resolves once all sockets are gone. */
  close(): Promise<void>;
}

/**
 * What we offer. Only curve25519 key exchange (ssh2's Diffie-Hellman group exchange takes
 * seconds; no NIST curves), only the Ed25519 host key, AEAD or CTR ciphers, encrypt-then-MAC
 * SHA-2 MACs. The @libssh.org name comes first: a client that guesses the server's first choice
 * and sends its key-exchange packet right away (Dropbear's dbclient, which knows only that name)
 * otherwise guesses wrong and hangs. Both names are the same algorithm.
 */
export const RELAY_SSH_ALGORITHMS = {
  kex: ['curve25519-sha256@libssh.org', 'curve25519-sha256'],
  serverHostKey: ['ssh-ed25519'],
  cipher: ['chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com', 'aes128-gcm@openssh.com', 'aes256-ctr', 'aes192-ctr', 'aes128-ctr'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com'],
  // No compression: with zlib@openssh.com, a client that vanished mid-session (ssh -C, then
  // killed) made ssh2 write the channel's exit status into its closed zlib stream and throw
  // "Invalid Zlib instance" outside any handler, taking the relay down. Console traffic is small.
  compress: ['none'],
} satisfies ssh2.Algorithms;

/**
 * The relay's SSH server: engineers and edge agents on one port. We own the TCP listener and
 * hand each socket to ssh2 (`injectSocket`), so close() can cut sockets that do not hang up and
 * the pre-authentication limits refuse a socket before ssh2 does any key-exchange work for it.
 * Throws LifelineError CONFIG_INVALID for unusable keys or password hashes in the config.
 */
export function createRelaySshServer(options: RelaySshServerOptions): RelaySshServer {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const log = logger.child({ component: 'ssh' });
  const { auth } = config;
  // One throttle class, configured twice: people per address, agents per address and key.
  const throttles = {
    people: new LoginThrottle(auth, clock),
    agents: new LoginThrottle({ failureDelayMs: auth.failureDelayMs, ...auth.agents }, clock),
  };
  const gate = new HashGate({ perAddress: auth.passwordChecksPerAddress, total: auth.passwordChecksInFlight });
  const passwords = new PasswordChecker(gate, options.verifyPassword);
  const inventory = options.inventory ?? fixedInventory(new Inventory({ config, file: 'relay.yaml', learned: EMPTY_LEARNED }));
  // Parsed once (host-key.ts): ssh2 takes a parsed key as { key }; a group member's is also the
  // one key other members log in with (peer-connection.ts).
  const hostKey = parsedHostKey(options.hostKey);
  const authenticator = new Authenticator({
    inventory,
    throttles,
    passwords,
    clock,
    logger: log,
    ...(options.peers ? { peerKey: hostKey } : {}),
  });
  const enrolment = options.enrolment?.(throttles.people);
  const preauth = new PreauthLimiter(config.limits, { clock, logger: log });
  /** Admitted sockets' tickets by remote `address:port` (unique among live connections), for ssh2's connection event. */
  const tickets = new Map<string, { keysExchanged(): void; authenticated(): void }>();

  const ssh = new ssh2.Server({
    hostKeys: [{ key: hostKey }],
    algorithms: RELAY_SSH_ALGORITHMS,
    ident: 'lifeline',
    keepaliveInterval: options.keepaliveIntervalMs,
    keepaliveCountMax: options.keepaliveCountMax,
  });
  ssh.on('connection', (conn, info) =>
    handleClientConnection(conn, info, {
      authenticator,
      inventory,
      broker: options.broker,
      tunnels: options.tunnels,
      probeTimeoutMs: config.healthCheckTimeoutMs,
      limits: config.limits,
      clock,
      logger: log,
      ...(enrolment ? { enrolment } : {}),
      ...(options.groupNotices ? { groupNotices: options.groupNotices } : {}),
      ...(options.peers ? { peers: options.peers } : {}),
    }),
  );
  const connections = new Set<ssh2.Connection>();
  ssh.on('connection', (conn, info) => {
    connections.add(conn);
    conn.once('close', () => connections.delete(conn));
    // 'ready' is ssh2's "authentication succeeded": the login grace timer stops there.
    const ticket = tickets.get(`${info.ip}:${info.port}`);
    if (!ticket) return;
    conn.once('handshake', () => ticket.keysExchanged());
    conn.once('ready', () => ticket.authenticated());
  });

  const sockets = new Set<Socket>();
  const tcp: NetServer = createServer({ noDelay: true }, (socket) => {
    // A socket that errors before ssh2 has it (reset during accept) must not crash us.
    socket.on('error', () => undefined);
    const { remoteAddress, remotePort } = socket;
    if (remoteAddress === undefined) return void socket.destroy(); // gone already
    const ticket = preauth.admit(remoteAddress, () => socket.destroy());
    if (!ticket) return void socket.destroy();
    const id = `${remoteAddress}:${remotePort}`;
    tickets.set(id, ticket);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      tickets.delete(id);
      ticket.release();
    });
    ssh.injectSocket(socket);
  });
  tcp.on('error', (err) => log.error({ event: 'ssh.listen-error', err }, 'listener error'));
  if (options.maxConnections !== undefined) {
    tcp.maxConnections = options.maxConnections;
    let refused = 0;
    let lastLogAt = Number.NEGATIVE_INFINITY;
    // Node closes the socket itself; say so, without letting a crowd of agents flood the log.
    tcp.on('drop', () => {
      refused++;
      if (clock.now() - lastLogAt < 10_000) return;
      lastLogAt = clock.now();
      log.warn(
        { event: 'ssh.connection-limit', limit: options.maxConnections, refused },
        `refused ${refused} connection(s): the relay holds ${options.maxConnections} connections, as many as its open-file limit allows`,
      );
      refused = 0;
    });
  }

  return {
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        tcp.once('error', onError);
        tcp.listen(config.listen.port, config.listen.host, () => {
          tcp.off('error', onError);
          const address = tcp.address();
          if (address === null || typeof address === 'string') return reject(new Error('listener has no TCP address'));
          resolve({ host: address.address, port: address.port });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        preauth.dispose();
        tcp.close(() => resolve());
        for (const conn of connections) conn.end();
        if (sockets.size === 0) return;
        const grace = clock.setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, options.closeGraceMs ?? CLOSE_GRACE_MS);
        tcp.once('close', () => grace.cancel());
      });
    },
  };
}
