import { isPowerAction, loadOrCreateKey, resolveFromConfig, systemClock, type Clock, type Logger, type RelayConfig, type TimerHandle } from '@lifeline/shared';
import { startAdminServer, type AdminServer } from './admin/admin-server.js';
import { AsciicastRecorderFactory } from './recording/asciicast-recorder.js';
import { ConsoleLog } from './recording/console-log.js';
import { pruneRecordings } from './recording/recording-retention.js';
import { ConsoleSessions } from './session/console-sessions.js';
import { deviceOverview } from './session/device-overview.js';
import { openTelnetUpstream } from './session/telnet-upstream.js';
import { createRelaySshServer } from './ssh/relay-ssh-server.js';
import { AgentRegistry } from './tunnel/agent-registry.js';
import { requestPower } from './tunnel/power-request.js';

export interface RunningRelay {
  readonly address: { host: string; port: number };
  readonly hostKeyFingerprint: string;
  readonly sessions: ConsoleSessions;
  readonly agents: AgentRegistry;
  stop(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** BMCs can take several seconds to answer a chassis command. */
const POWER_TIMEOUT_MS = 30_000;

/**
 * Wires the relay: host key, tunnel registry, console sessions with their recordings and
 * console logs, the SSH server in front, and the local admin socket.
 */
export async function startRelay(config: RelayConfig, configFile: string, logger: Logger, clock: Clock = systemClock): Promise<RunningRelay> {
  const path = (p: string) => resolveFromConfig(configFile, p);
  const hostKeyFile = path(config.hostKeyFile);
  const hostKey = await loadOrCreateKey(hostKeyFile, 'lifeline-relay');
  if (hostKey.generated) logger.warn({ event: 'hostkey.generated', hostKeyFile }, 'generated a new relay host key');

  const recordingsDir = path(config.recordingsDir);
  const retention = startRetention(recordingsDir, config.recording.retentionDays, logger, clock);
  // One log per device, opened together: a relay may serve thousands of devices.
  const consoleLogs = new Map<string, ConsoleLog>(
    await Promise.all(
      config.devices.map(async (device) => {
        const log = await ConsoleLog.open({ ...config.consoleLog, dir: path(config.consoleLog.dir), deviceId: device.id, logger, clock });
        log.note('relay started');
        return [device.id, log] as const;
      }),
    ),
  );

  const agents = new AgentRegistry(logger.child({ component: 'agent-registry' }), () => clock.now());
  const sessions = new ConsoleSessions(config, agents, {
    logger,
    clock,
    openUpstream: (tunnel) => openTelnetUpstream(tunnel, logger),
    recorders: new AsciicastRecorderFactory({ dir: recordingsDir, logger, clock }),
    recordInput: config.recording.input,
    viewerBufferBytes: config.viewerBufferBytes,
    consoleLogFor: (deviceId) => consoleLogs.get(deviceId),
    requestPower: (tunnel, action) => requestPower(tunnel, action, POWER_TIMEOUT_MS, clock),
  });
  const server = createRelaySshServer({
    config,
    hostKey: hostKey.privateKey,
    broker: sessions,
    tunnels: agents,
    logger,
    clock,
    keepaliveIntervalMs: config.keepalive.intervalMs,
    keepaliveCountMax: config.keepalive.countMax,
    probeTimeoutMs: config.healthCheckTimeoutMs,
  });
  const admin: AdminServer = await startAdminServer({
    socketPath: path(config.adminSocket),
    handlers: {
      sessions: () => sessions.snapshots(),
      devices: () => config.devices.map((d) => deviceOverview(agents.status(d.id), sessions.consoleStatus(d.id))),
      power: (request) => {
        const { device, action, by } = request as { device?: unknown; action?: unknown; by?: unknown };
        if (typeof device !== 'string' || typeof action !== 'string' || !isPowerAction(action)) throw new Error('power needs a device and an action');
        return sessions.adminPower(device, action, typeof by === 'string' ? by : undefined);
      },
    },
    logger: logger.child({ component: 'admin' }),
  });
  const address = await server.listen();
  logger.info(
    { event: 'relay.listening', host: address.host, port: address.port, hostKeyFingerprint: hostKey.fingerprint, devices: config.devices.length, users: config.users.length, recordingsDir, adminSocket: admin.socketPath },
    `relay listening on ${address.host}:${address.port}, host key ${hostKey.fingerprint}`,
  );
  return {
    address,
    hostKeyFingerprint: hostKey.fingerprint,
    sessions,
    agents,
    async stop() {
      retention.cancel();
      sessions.close('the relay is shutting down.');
      await server.close();
      await admin.close();
      await Promise.all([...consoleLogs.values()].map((log) => log.close()));
    },
  };
}

/** Prunes old recordings now and once a day; 0 days keeps them forever. */
function startRetention(dir: string, days: number, logger: Logger, clock: Clock): TimerHandle {
  let timer: TimerHandle | undefined;
  const run = () => {
    void pruneRecordings(dir, days, new Date(clock.now())).then(
      (result) => {
        if (result.removed.length > 0) logger.info({ event: 'recording.pruned', removed: result.removed.length, retentionDays: days }, 'old recordings deleted');
        for (const f of result.failed) logger.warn({ event: 'recording.prune-failed', path: f.path, err: f.error.message }, 'cannot delete an old recording');
      },
      (err: unknown) => logger.warn({ event: 'recording.prune-failed', err }, 'recording retention failed'),
    );
    timer = clock.setTimeout(run, DAY_MS);
  };
  if (days > 0) run();
  return { cancel: () => timer?.cancel() };
}
