import {
  LIFELINE_VERSION,
  TelnetConsoleServer,
  agentPaths,
  cannotCreate,
  generateKeyPair,
  readKeyFile,
  writeNewKey,
  type AgentConfig,
  type Logger,
  type SshKeyPair,
} from '@lifeline/shared/agent';
import { agentKeyComment } from './agent-preflight.js';
import { AgentStatus } from './agent-status.js';
import { createConsolePort } from './console/create-console-port.js';
import { consoleFacts } from './console/console-facts.js';
import { ConsoleService } from './console/console-service.js';
import { createPowerControl, type PowerControl } from './console/power-control.js';
import { createStatusIndicator } from './led/create-status-indicator.js';
import { answerPowerRequest } from './tunnel/power-responder.js';
import { HealthChecker, type HealthResult } from './tunnel/health-checker.js';
import { ProbeResponder } from './tunnel/probe-responder.js';
import { RelayDialer } from './tunnel/relay-dialer.js';
import { RelayTunnel, type TunnelState } from './tunnel/relay-tunnel.js';

export interface RunningAgent {
  readonly tunnelState: TunnelState;
  /** Runs one loopback health check per device now. */
  checkHealth(): Promise<HealthResult[]>;
  stop(): Promise<void>;
}

export interface AgentHooks {
  onTunnelState?(to: TunnelState): void;
  onHealth?(result: HealthResult): void;
}

/** SSH software version announced to the relay (no spaces or dashes, RFC 4253). */
export const AGENT_IDENT = `lifelineAgent_${LIFELINE_VERSION}`;

/**
 * Wires one agent: its key, the consoles it serves (each its own device on the relay), one
 * tunnel to the relay with a forward per device, the loopback health check that proves each of
 * them, and the status LED (and hook) that shows it all.
 */
export async function startAgent(
  config: AgentConfig,
  configFile: string,
  logger: Logger,
  hooks: AgentHooks = {},
  keyOnDisk?: SshKeyPair,
): Promise<RunningAgent> {
  const paths = agentPaths(config, configFile);
  const { consoles, keyFile } = paths;
  const deviceIds = consoles.map((c) => c.deviceId);
  const key = keyOnDisk ?? (await readKeyFile(keyFile, agentKeyComment(paths))) ?? generateKeyPair(agentKeyComment(paths));
  if (key.generated) {
    await writeNewKey(keyFile, key).catch((err: unknown) => {
      throw cannotCreate(configFile, 'keyFile', keyFile, err);
    });
    logger.warn(
      { event: 'key.generated', keyFile, fingerprint: key.fingerprint },
      `generated agent key; enrol it on the relay as agentKey of ${deviceIds.join(', ')}: ${key.publicKeyLine}`,
    );
  }
  const indicator = await createStatusIndicator(config.status, { deviceId: deviceIds.join(','), logger });
  const status = new AgentStatus(indicator);
  const services = new Map<string, ConsoleService>();
  const powers = new Map<string, PowerControl | undefined>();
  for (const { deviceId, console } of consoles) {
    const port = createConsolePort(console, { logger: logger.child({ deviceId }) });
    powers.set(deviceId, createPowerControl(console, { logger: logger.child({ deviceId }) }));
    services.set(
      deviceId,
      new ConsoleService({
        deviceId,
        port,
        retryMs: config.consoleRetryMs,
        facts: consoleFacts(console),
        logger,
        onStatus: (s) => status.console(deviceId, s),
        onTraffic: () => status.traffic(),
      }),
    );
  }
  const responder = new ProbeResponder();
  const dialer = new RelayDialer({
    relay: config.relay,
    privateKey: key.privateKey,
    connectTimeoutMs: config.reconnect.connectTimeoutMs,
    keepalive: config.keepalive,
    ident: AGENT_IDENT,
    logger,
  });
  // Assigned below: the checker and the tunnel refer to each other.
  // eslint-disable-next-line prefer-const
  let tunnel: RelayTunnel | undefined;
  const checker = new HealthChecker({
    openProbe: (deviceId) => tunnel?.openProbe(deviceId) ?? Promise.reject(new Error('the tunnel is not started')),
    deviceIds,
    intervalMs: config.health.intervalMs,
    timeoutMs: config.health.timeoutMs,
    failuresBeforeReconnect: config.health.failuresBeforeReconnect,
    responder,
    logger,
    onResult: (result) => {
      status.health(result);
      hooks.onHealth?.(result);
    },
    onUnhealthy: (reason) => tunnel?.restart(reason),
  });
  tunnel = new RelayTunnel({
    dialer,
    deviceIds,
    reconnect: config.reconnect,
    logger,
    onStream: (deviceId, stream) => services.get(deviceId)?.attachStream(new TelnetConsoleServer(stream, logger.child({ deviceId }))),
    onProbe: (_deviceId, stream) => responder.answer(stream),
    onPower: (deviceId, stream) => {
      const control = powers.get(deviceId);
      answerPowerRequest(stream, deviceId, control ? (action) => control.power(action) : undefined, logger);
    },
    onStateChange: ({ to, error }) => {
      if (to === 'connected') checker.tunnelUp();
      else checker.tunnelDown();
      status.tunnel(to, error);
      hooks.onTunnelState?.(to);
    },
  });
  for (const service of services.values()) service.start();
  tunnel.start();
  logger.info(
    {
      event: 'agent.start',
      node: process.version,
      devices: deviceIds,
      relay: `${config.relay.host}:${config.relay.port}`,
      consoles: consoles.map((c) => `${c.deviceId}: ${c.console.type}`),
    },
    'agent started',
  );
  const running = tunnel;
  return {
    get tunnelState() {
      return running.state;
    },
    checkHealth: () => checker.checkNow(),
    async stop() {
      checker.stop();
      // All at once: the LED may wait for a running status hook (up to its timeout).
      await Promise.all([running.stop(), ...[...services.values()].map((s) => s.stop()), indicator.close()]);
    },
  };
}
