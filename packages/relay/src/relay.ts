import { unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  LifelineError,
  cannotCreate,
  generateKeyPair,
  isLifelineError,
  isPowerAction,
  makeFolder,
  readKeyFile,
  relayPaths,
  systemClock,
  writeNewKey,
  type Clock,
  type Logger,
  type RelayConfig,
  type SshKeyPair,
} from '@lifeline/shared';
import { startAdminServer, type AdminServer } from './admin/admin-server.js';
import { enrolmentService, startEnrolment, type RelayEnrolment } from './inventory/relay-enrolment.js';
import { declaredInConfig, inventoryAdminHandlers } from './inventory/inventory-admin.js';
import type { InventoryStore } from './inventory/inventory-store.js';
import { AsciicastRecorderFactory } from './recording/asciicast-recorder.js';
import { ConsoleLog } from './recording/console-log.js';
import { DiskGate, RELAY_DISK_SLOTS } from './recording/disk-gate.js';
import { startRetention } from './recording/retention-schedule.js';
import { ConsoleSessions } from './session/console-sessions.js';
import type { DeviceConsoleLog } from './session/device-hub.js';
import { deviceOverview } from './session/device-overview.js';
import { openTelnetUpstream } from './session/telnet-upstream.js';
import { RELAY_KEY_COMMENT } from './relay-preflight.js';
import { createRelaySshServer, type RelaySshServer } from './ssh/relay-ssh-server.js';
import { AgentRegistry } from './tunnel/agent-registry.js';
import { announceReturn } from './tunnel/return-notice.js';
import { requestPower } from './tunnel/power-request.js';

export interface RunningRelay {
  readonly address: { host: string; port: number };
  readonly hostKeyFingerprint: string;
  readonly sessions: ConsoleSessions;
  readonly agents: AgentRegistry;
  stop(): Promise<void>;
}

/** BMCs can take several seconds to answer a chassis command. */
const POWER_TIMEOUT_MS = 30_000;

/**
 * Wires the relay: host key, tunnel registry, console sessions with their recordings and
 * console logs, the SSH server in front, and the local admin socket.
 *
 * Nothing is written before the listen port is bound: a new host key is generated in memory and
 * written after the bind, then the folders, the admin socket and the console logs' "relay
 * started" notes follow. If a step after the bind fails, what it made is undone (the listener,
 * the admin socket, a key written by this start). Throws STARTUP_PORT_IN_USE,
 * STARTUP_PORT_PRIVILEGED, STARTUP_CANNOT_CREATE, ADMIN_SOCKET_*, KEY_* or INVENTORY_* (from openStore, called
 * after the bind; the relay closes the store it opened on stop) for the operator.
 */
export async function startRelay(
  config: RelayConfig,
  configFile: string,
  logger: Logger,
  clock: Clock = systemClock,
  hostKeyOnDisk?: SshKeyPair,
  openStore?: () => Promise<InventoryStore>,
): Promise<RunningRelay> {
  const paths = relayPaths(config, configFile);
  // Recordings, console logs and retention share one bound on state-disk work (disk-gate.ts).
  const gate = new DiskGate(RELAY_DISK_SLOTS);
  const hostKey = hostKeyOnDisk ?? (await readKeyFile(paths.hostKeyFile, RELAY_KEY_COMMENT)) ?? generateKeyPair(RELAY_KEY_COMMENT);

  // Filled after the bind; the hubs reach them through openedLater.
  const consoleLogs = new Map<string, ConsoleLog>();
  const agents = new AgentRegistry(logger.child({ component: 'agent-registry' }), () => clock.now());
  const sessions = new ConsoleSessions(config, agents, {
    logger,
    clock,
    openUpstream: (tunnel) => openTelnetUpstream(tunnel, logger),
    recorders: new AsciicastRecorderFactory({ dir: paths.recordingsDir, logger, clock, gate }),
    recordInput: config.recording.input,
    viewerBufferBytes: config.viewerBufferBytes,
    consoleLogFor: (deviceId) => openedLater(consoleLogs, deviceId),
    requestPower: (tunnel, action) => requestPower(tunnel, action, POWER_TIMEOUT_MS, clock),
  });
  // Opened after the bind (it writes into stateDir); logins before that find no enrolled keys.
  let enrolment: RelayEnrolment | undefined;
  const server = createRelaySshServer({
    enrolment: (throttle) => enrolmentService(() => enrolment?.store, config.enrolment.approve, throttle, clock, logger),
    enrolledAgentKeys: () => enrolment?.keys.keys() ?? [],
    config,
    hostKey: hostKey.privateKey,
    broker: sessions,
    tunnels: agents,
    logger,
    clock,
    keepaliveIntervalMs: config.keepalive.intervalMs,
    keepaliveCountMax: config.keepalive.countMax,
  });
  const address = await listenOrExplain(server, config);

  let admin: AdminServer | undefined;
  let store: InventoryStore | undefined;
  let keyWritten = false;
  try {
    await makeStateFolder(configFile, 'stateDir', paths.stateDir);
    // After the bind, as everything the relay writes (the SQLite file is in the state folder).
    store = await openStore?.();
    if (hostKey.generated) {
      await writeNewKey(paths.hostKeyFile, hostKey).catch((err: unknown) => {
        throw cannotCreate(configFile, 'hostKeyFile', paths.hostKeyFile, err);
      });
      keyWritten = true;
      logger.warn({ event: 'hostkey.generated', hostKeyFile: paths.hostKeyFile }, 'generated a new relay host key');
    }
    enrolment = await startEnrolment({
      stateDir: paths.stateDir,
      ...(store ? { store } : {}),
      agents,
      hostKeyFingerprint: hostKey.fingerprint,
      config: config.enrolment,
      clock,
      logger,
    });
    await makeStateFolder(configFile, 'recordingsDir', paths.recordingsDir);
    if (config.devices.length > 0) await makeStateFolder(configFile, 'consoleLog.dir', paths.consoleLogDir);
    await makeStateFolder(configFile, 'adminSocket', dirname(paths.adminSocket));
    admin = await startAdminServer({
      socketPath: paths.adminSocket,
      handlers: {
        sessions: () => sessions.snapshots(),
        devices: () => config.devices.map((d) => deviceOverview(agents.status(d.id), sessions.consoleStatus(d.id))),
        power: (request) => {
          const { device, action, by } = request as { device?: unknown; action?: unknown; by?: unknown };
          if (typeof device !== 'string' || typeof action !== 'string' || !isPowerAction(action))
            throw new Error('power needs a device and an action');
          return sessions.adminPower(device, action, typeof by === 'string' ? by : undefined);
        },
        ...enrolment.handlers,
        // `lifeline-relay user|device ...`: the store's people and devices (relay.yaml's are refused).
        ...(store
          ? inventoryAdminHandlers({
              store,
              declared: () => declaredInConfig(config, configFile),
              logger: logger.child({ component: 'inventory' }),
            })
          : {}),
      },
      logger: logger.child({ component: 'admin' }),
      maxQueuedBytes: config.limits.adminQueueBytes,
    }).catch((err: unknown) => {
      if (!isLifelineError(err)) throw err;
      throw new LifelineError(err.code, `${configFile}: adminSocket: ${err.message}`, { cause: err });
    });
    // One log per device, opened together: a relay may serve thousands of devices.
    for (const [id, log] of await Promise.all(
      config.devices.map(
        async (device) =>
          [
            device.id,
            await ConsoleLog.open({ ...config.consoleLog, dir: paths.consoleLogDir, deviceId: device.id, logger, clock, gate }),
          ] as const,
      ),
    )) {
      consoleLogs.set(id, log);
    }
  } catch (err) {
    await server.close();
    await admin?.close();
    await enrolment?.close();
    await store?.close();
    await Promise.all([...consoleLogs.values()].map((log) => log.close()));
    if (keyWritten) await unlink(paths.hostKeyFile).catch(() => undefined);
    throw err;
  }
  for (const log of consoleLogs.values()) log.note('relay started');
  const retention = startRetention({ dir: paths.recordingsDir, retentionDays: config.recording.retentionDays, logger, clock, gate });
  logger.info(
    {
      event: 'relay.listening',
      host: address.host,
      port: address.port,
      hostKeyFingerprint: hostKey.fingerprint,
      devices: config.devices.length,
      users: config.users.length,
      stateDir: paths.stateDir,
      recordingsDir: paths.recordingsDir,
      adminSocket: paths.adminSocket,
      node: process.version,
    },
    `relay listening on ${address.host}:${address.port}, host key ${hostKey.fingerprint}`,
  );
  const running = admin;
  return {
    address,
    hostKeyFingerprint: hostKey.fingerprint,
    sessions,
    agents,
    async stop() {
      retention.cancel();
      // Before anything closes: the agents learn when to come back (no storm after an upgrade).
      await announceReturn(agents.all(), { loginsPerSecond: config.agentReturnRate, timeoutMs: 2_000, clock, logger });
      sessions.close('the relay is shutting down.');
      await server.close();
      await running.close();
      await enrolment?.close();
      await store?.close();
      await Promise.all([...consoleLogs.values()].map((log) => log.close()));
    },
  };
}

/**
 * A device's console log as the hubs see it from their creation, before the bind; it writes to
 * the log once that is open (after the bind) and drops what comes before (nothing can: no agent
 * is connected before the relay listens).
 */
function openedLater(logs: ReadonlyMap<string, ConsoleLog>, deviceId: string): DeviceConsoleLog {
  return {
    append: (chunk) => logs.get(deviceId)?.append(chunk),
    note: (text) => logs.get(deviceId)?.note(text),
    joinScrollback: () => logs.get(deviceId)?.joinScrollback() ?? Buffer.alloc(0),
  };
}

/** Binds the listen port; a busy or privileged port is the operator's to fix, said in one line. */
async function listenOrExplain(server: RelaySshServer, config: RelayConfig): Promise<{ host: string; port: number }> {
  const { host, port } = config.listen;
  try {
    return await server.listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new LifelineError('STARTUP_PORT_IN_USE', `listen.port ${port} on ${host} is already in use`, { cause: err });
    if (code === 'EACCES')
      throw new LifelineError('STARTUP_PORT_PRIVILEGED', `port ${port} needs CAP_NET_BIND_SERVICE or a port above 1023`, { cause: err });
    if (code === 'EADDRNOTAVAIL')
      throw new LifelineError('CONFIG_INVALID', `listen.host ${host} is not an address of this machine`, { cause: err });
    throw err;
  }
}

/** mkdir -p with mode 0700 (a folder that exists keeps its mode); STARTUP_CANNOT_CREATE on failure. */
async function makeStateFolder(configFile: string, key: string, dir: string): Promise<void> {
  try {
    await makeFolder(dir, 0o700);
  } catch (err) {
    throw cannotCreate(configFile, key, dir, err);
  }
}
