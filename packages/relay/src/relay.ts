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
} from '@lifeline/shared/core';
import { startAdminServer, type AdminServer } from './admin/admin-server.js';
import { GroupAnnouncer } from './group/group-announcer.js';
import { indexedRecorders } from './group/indexed-recorders.js';
import { recordingFilter } from './group/recording-filter.js';
import type { RelayGroup } from './group/relay-group.js';
import { GroupSeatLeases } from './group/group-seat-leases.js';
import type { SessionSnapshot } from './session/session-snapshot.js';
import type { PeopleElsewhere } from './session/who-lines.js';
import { applyInventoryChange } from './inventory/reload-effects.js';
import type { InventoryStore } from './inventory/inventory-store.js';
import { LiveInventory } from './inventory/live-inventory.js';
import type { Inventory } from './inventory/inventory.js';
import { enrolmentService, startEnrolment, type RelayEnrolment } from './inventory/relay-enrolment.js';
import { declaredInConfig, inventoryAdminHandlers } from './inventory/inventory-admin.js';
import { AsciicastRecorderFactory } from './recording/asciicast-recorder.js';
import type { RecorderFactory } from './recording/session-recorder.js';
import { connectionBudget, descriptorsNeeded, readOpenFileLimit } from './open-file-limit.js';
import { DeviceConsoleLogs } from './recording/device-console-logs.js';
import { DiskGate, RELAY_DISK_SLOTS } from './recording/disk-gate.js';
import { startRetention } from './recording/retention-schedule.js';
import { ConsoleSessions } from './session/console-sessions.js';
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
  /** Users and devices, live: `reload()` re-reads relay.yaml (SIGHUP, `lifeline-relay reload`). */
  readonly inventory: LiveInventory;
  /** This relay's membership of its relay group (relay.yaml `group`); undefined for a relay alone. */
  readonly group: RelayGroup | undefined;
  stop(): Promise<void>;
}

/** BMCs can take several seconds to answer a chassis command. */
const POWER_TIMEOUT_MS = 30_000;

/**
 * How long a graceful stop waits for the agents to take their return notices. Not configurable:
 * the notice is one small message on a live connection; an agent that misses it reconnects with
 * its own backoff.
 */
const RETURN_NOTICE_TIMEOUT_MS = 2_000;

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
  checked?: Inventory,
): Promise<RunningRelay> {
  const paths = relayPaths(config, configFile);
  // `checked`: the preflight's inventory of the same config, whose parsed keys are reused.
  const inventory = new LiveInventory({ file: configFile, config, logger, ...(checked ? { previous: checked } : {}) });
  // Recordings, console logs and retention share one bound on state-disk work (disk-gate.ts).
  const gate = new DiskGate(RELAY_DISK_SLOTS);
  const hostKey = hostKeyOnDisk ?? (await readKeyFile(paths.hostKeyFile, RELAY_KEY_COMMENT)) ?? generateKeyPair(RELAY_KEY_COMMENT);

  // Opened after the bind; a device added by a reload gets its log when its hub is made.
  // In a relay group one member writes each device's log (the one holding it in the group's table).
  const consoleLogs = new DeviceConsoleLogs(
    { ...config.consoleLog, dir: paths.consoleLogDir, logger, clock, gate },
    config.group ? (deviceId) => group?.consoleLogs.holds(deviceId) ?? false : undefined,
  );
  const agents = new AgentRegistry(logger.child({ component: 'agent-registry' }), () => clock.now());
  // A group member gives read-write only with the group's writer lease (one writer per device
  // for the whole group); it answers claims once the member has joined.
  const seats = config.group ? new GroupSeatLeases(logger) : undefined;
  const withGroupIndex = (recorders: RecorderFactory): RecorderFactory =>
    config.group ? indexedRecorders(recorders, () => group?.recordings, clock) : recorders;
  const sessions = new ConsoleSessions({ inventory, banner: config.banner }, agents, {
    logger,
    clock,
    openUpstream: (tunnel) => openTelnetUpstream(tunnel, logger),
    // A group member also lists each recording in the group's index (any member's `recordings` shows it).
    recorders: withGroupIndex(
      new AsciicastRecorderFactory({ dir: paths.recordingsDir, maxQueuedBytes: config.recording.queueBytes, logger, clock, gate }),
    ),
    recordInput: config.recording.input,
    viewerBufferBytes: config.viewerBufferBytes,
    consoleLogFor: (deviceId) => consoleLogs.for(deviceId),
    requestPower: (tunnel, action) => requestPower(tunnel, action, POWER_TIMEOUT_MS, clock),
    // A group member's `who` adds the people on the device through the other members.
    ...(config.group ? { peopleElsewhere: (deviceId: string) => peopleElsewhere(group, deviceId) } : {}),
    ...(seats ? { seatLeases: seats.forDevice } : {}),
  });
  const maxConnections = await checkOpenFileLimit([...inventory.current().devices].length, logger);
  inventory.onChange((change) => applyInventoryChange(change, { sessions, tunnels: agents, consoleLogs, logger }));
  // Opened after the bind (it writes into stateDir); logins before that find no enrolled keys.
  let enrolment: RelayEnrolment | undefined;
  // A group member answers agents' requests for the member list; an empty list until it has joined.
  let group: RelayGroup | undefined;
  const announcer = config.group
    ? new GroupAnnouncer({
        notice: () => ({ self: group?.id ?? '', members: group?.members() ?? [] }),
        logger: logger.child({ component: 'relay-group' }),
      })
    : undefined;
  const server = createRelaySshServer({
    maxConnections,
    enrolment: (throttle) => enrolmentService(() => enrolment?.store, config.enrolment.approve, throttle, clock, logger),
    config,
    inventory,
    hostKey: hostKey.privateKey,
    broker: sessions,
    tunnels: agents,
    logger,
    clock,
    keepaliveIntervalMs: config.keepalive.intervalMs,
    keepaliveCountMax: config.keepalive.countMax,
    ...(announcer ? { groupNotices: (stream) => announcer.subscribe(stream) } : {}),
    // Members lend each other their recordings, so `replay` works on any member.
    ...(config.group ? { peers: { recordingsDir: paths.recordingsDir } } : {}),
  });
  const address = await listenOrExplain(server, config);

  let admin: AdminServer | undefined;
  let store: InventoryStore | undefined;
  let keyWritten = false;
  try {
    await makeStateFolder(configFile, 'stateDir', paths.stateDir);
    // After the bind, as everything the relay writes (the SQLite file is in the state folder).
    store = await openStore?.();
    // What the store learned (people, devices, enrolled agents) joins relay.yaml's inventory.
    if (store) await inventory.attachStore(store);
    // After the store: it migrated the database the group's tables live in. Loaded only for a
    // group, as PostgreSQL's client is (issue 11: what the daemon does not use, it does not load).
    if (config.group) {
      const { joinRelayGroup } = await import('./group/join-relay-group.js');
      group = await joinRelayGroup({
        config,
        configFile,
        store,
        port: address.port,
        hostKeyFingerprint: hostKey.fingerprint,
        agents,
        sessions: () => sessions.snapshots(),
        // The log says where its writing resumed: a member that died leaves a gap of up to its expiry.
        onConsoleLogsTaken: (deviceIds) => {
          const here = group?.advertised ?? config.group!.advertise.host;
          for (const deviceId of deviceIds) consoleLogs.for(deviceId).note(`relay ${here} writes this log from here`);
        },
        onWritersChanged: (deviceId) => seats?.refresh(deviceId),
        logger,
      });
      if (group) seats?.connect(group.writers, group.id);
    }
    group?.onMembersChange(() => announcer?.announce());
    announcer?.announce();
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
    // Without a configured store (tests) enrolment keeps its own SQLite file; the inventory follows it.
    if (!store) await inventory.attachStore(enrolment.store);
    await makeStateFolder(configFile, 'recordingsDir', paths.recordingsDir);
    if (config.devices.length > 0) await makeStateFolder(configFile, 'consoleLog.dir', paths.consoleLogDir);
    await makeStateFolder(configFile, 'adminSocket', dirname(paths.adminSocket));
    admin = await startAdminServer({
      socketPath: paths.adminSocket,
      handlers: {
        // A group member adds the sessions the other members host (from PostgreSQL; while it is
        // away, this relay's alone), each row naming its relay.
        sessions: async () => {
          const here = sessions.snapshots();
          if (!group) return here;
          const self = group.advertised;
          const elsewhere = await group.sessionsElsewhere().catch(() => []);
          return [...here.map((s) => ({ ...s, relay: self })), ...elsewhere.map((e) => ({ ...e.snapshot, relay: e.relay }))];
        },
        // `user`: only the devices that person may reach (`lifeline-relay devices --user NAME`), by the login's rule.
        devices: async (request) => {
          const { user } = request as { user?: unknown };
          if (user !== undefined && typeof user !== 'string') throw new Error('devices: user must be a name');
          const now = inventory.current();
          const ids = user === undefined ? [...now.devices].map((d) => d.id) : sessions.devicesFor(user).map((d) => d.id);
          const overviews = ids.map((id) =>
            deviceOverview(agents.status(id), sessions.consoleStatus(id), now.device(id)?.enrolment?.state),
          );
          if (!group) return overviews;
          // The whole group's tunnels, from PostgreSQL; while it is away, said as unknown.
          const byDevice = await group.tunnelsByDevice().catch(() => undefined);
          return overviews.map((o) => ({ ...o, relays: byDevice ? (byDevice.get(o.deviceId) ?? []) : null }));
        },
        // The group's recordings from its index (`lifeline-relay recordings` on a member); a relay
        // alone has none to give: its recordings command reads the folder.
        recordings: async (request) => {
          if (!group) throw new Error('recordings: this relay is not in a relay group; its recordings are in its recordingsDir');
          return (await group.recordings.list(recordingFilter(request))).map((r) => ({ ...r, startedAt: r.startedAt.toISOString() }));
        },
        reload: async () => inventory.reload(),
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
              // The running relay.yaml (after the last reload), not the one the relay started with.
              declared: () => declaredInConfig(inventory.config, configFile),
              logger: logger.child({ component: 'inventory' }),
            })
          : {}),
      },
      logger,
      maxQueuedBytes: config.limits.adminQueueBytes,
    }).catch((err: unknown) => {
      if (!isLifelineError(err)) throw err;
      throw new LifelineError(err.code, `${configFile}: adminSocket: ${err.message}`, { cause: err });
    });
    // One log per device, opened together: a relay may serve thousands of devices.
    await consoleLogs.openAll([...inventory.current().devices].map((d) => d.id));
  } catch (err) {
    await server.close();
    announcer?.close();
    await group?.close();
    await admin?.close();
    await enrolment?.close();
    await store?.close();
    await consoleLogs.closeAll();
    if (keyWritten) await unlink(paths.hostKeyFile).catch(() => undefined);
    throw err;
  }
  consoleLogs.noteAll('relay started');
  const retention = startRetention({
    dir: paths.recordingsDir,
    retentionDays: config.recording.retentionDays,
    logger,
    clock,
    gate,
    // Deleted files leave the group's index with them.
    onRemoved: (removed) => group?.recordings.forget(removed),
  });
  logger.info(
    {
      event: 'relay.listening',
      host: address.host,
      port: address.port,
      hostKeyFingerprint: hostKey.fingerprint,
      devices: inventory.current().deviceCount,
      users: inventory.current().userCount,
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
    inventory,
    group,
    async stop() {
      retention.cancel();
      // The other members and the agents learn at once that this relay leaves (no wait for its expiry).
      await group?.leave();
      announcer?.close();
      // Before anything closes: the agents learn when to come back (no storm after an upgrade).
      await announceReturn(agents.all(), {
        loginsPerSecond: config.agentReturnRate,
        afterMs: config.agentReturnAfterMs,
        timeoutMs: RETURN_NOTICE_TIMEOUT_MS,
        clock,
        logger,
      });
      sessions.close('the relay is shutting down.');
      await server.close();
      await running.close();
      await enrolment?.close();
      await store?.close();
      await consoleLogs.closeAll();
    },
  };
}

/** The people on a device through the group's other members, from the group's session tracker (none before it joined). */
async function peopleElsewhere(group: RelayGroup | undefined, deviceId: string): Promise<PeopleElsewhere[]> {
  if (!group) return [];
  return (await group.sessionsElsewhere(deviceId)).map((e) => ({
    relay: e.relay,
    people: (e.snapshot as Partial<SessionSnapshot>).people ?? [],
  }));
}

/**
 * Logs the open-file limit (soft and hard), warns when the soft one is below what the configured
 * devices need, and returns the connection budget derived from it (undefined off Linux).
 */
async function checkOpenFileLimit(devices: number, logger: Logger): Promise<number | undefined> {
  const limit = await readOpenFileLimit();
  if (!limit) return undefined;
  const needed = descriptorsNeeded(devices);
  const maxConnections = connectionBudget(limit);
  const fields = { event: 'relay.open-file-limit', soft: limit.soft, hard: limit.hard, needed, maxConnections };
  if (limit.soft < needed)
    logger.warn(
      fields,
      `open-file limit ${limit.soft} (hard ${limit.hard}) is below the ${needed} that ${devices} devices need: raise LimitNOFILE= in the unit`,
    );
  else logger.info(fields, `open-file limit ${limit.soft} (hard ${limit.hard}); at most ${maxConnections} connections at once`);
  return Number.isFinite(maxConnections) ? maxConnections : undefined;
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
