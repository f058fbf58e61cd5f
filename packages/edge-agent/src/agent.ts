import { LIFELINE_VERSION, loadOrCreateKey, resolveFromConfig, type AgentConfig, type Logger } from '@lifeline/shared';
import { AgentStatus } from './agent-status.js';
import { createConsolePort } from './console/create-console-port.js';
import { createStatusIndicator } from './led/create-status-indicator.js';
import { ConsoleService } from './console/console-service.js';
import { TelnetConsoleStream } from './console/telnet-console-stream.js';
import { HealthChecker, type HealthResult } from './tunnel/health-checker.js';
import { ProbeResponder } from './tunnel/probe-responder.js';
import { RelayTunnel, type TunnelState } from './tunnel/relay-tunnel.js';

export interface RunningAgent {
  readonly tunnelState: TunnelState;
  /** Runs one loopback health check now (tests, and `lifeline-agent` diagnostics later). */
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
 * Wires one agent: its key, the console it serves, the tunnel to the relay, the loopback health
 * check that proves the tunnel carries traffic, and the status LED (and hook) that shows it all.
 */
export async function startAgent(config: AgentConfig, configFile: string, logger: Logger, hooks: AgentHooks = {}): Promise<RunningAgent> {
  const keyFile = resolveFromConfig(configFile, config.keyFile);
  const key = await loadOrCreateKey(keyFile, `lifeline-agent@${config.device}`);
  if (key.generated) {
    logger.warn({ event: 'key.generated', keyFile, fingerprint: key.fingerprint }, `generated agent key; enrol it on the relay as agentKey of ${config.device}: ${key.publicKeyLine}`);
  }
  const consoleConfig = config.console.type === 'serial' ? { ...config.console, path: resolveFromConfig(configFile, config.console.path) } : config.console;
  const port = createConsolePort(consoleConfig, { logger });
  const indicator = await createStatusIndicator(config.status, { deviceId: config.device, logger });
  const status = new AgentStatus(indicator);
  const service = new ConsoleService({
    deviceId: config.device,
    port,
    retryMs: config.consoleRetryMs,
    logger,
    onStatus: (s) => status.console(s),
    onTraffic: () => status.traffic(),
  });
  const responder = new ProbeResponder();
  const health = config.health;
  let tunnel: RelayTunnel | undefined;
  const checker = new HealthChecker({
    relay: config.relay,
    deviceIds: [config.device],
    privateKey: key.privateKey,
    intervalMs: health.intervalMs,
    timeoutMs: health.timeoutMs,
    failuresBeforeReconnect: health.failuresBeforeReconnect,
    responder,
    ident: AGENT_IDENT,
    logger,
    onResult: (result) => {
      status.health(result);
      hooks.onHealth?.(result);
    },
    onUnhealthy: (reason) => tunnel?.restart(reason),
  });
  tunnel = new RelayTunnel({
    relay: config.relay,
    deviceIds: [config.device],
    privateKey: key.privateKey,
    reconnect: config.reconnect,
    readyTimeoutMs: config.reconnect.connectTimeoutMs,
    keepaliveIntervalMs: config.keepalive.intervalMs,
    keepaliveCountMax: config.keepalive.countMax,
    ident: AGENT_IDENT,
    logger,
    onStream: (_deviceId, stream) => service.attachStream(new TelnetConsoleStream(stream, logger)),
    onProbe: (_deviceId, stream) => responder.answer(stream),
    onStateChange: ({ to, error }) => {
      if (to === 'connected') checker.tunnelUp();
      else checker.tunnelDown();
      status.tunnel(to, error);
      hooks.onTunnelState?.(to);
    },
  });
  service.start();
  tunnel.start();
  logger.info({ event: 'agent.start', device: config.device, relay: `${config.relay.host}:${config.relay.port}`, console: port.description }, 'agent started');
  const running = tunnel;
  return {
    get tunnelState() {
      return running.state;
    },
    checkHealth: () => checker.checkNow(),
    async stop() {
      checker.stop();
      // All at once: the LED may wait for a running status hook (up to its timeout).
      await Promise.all([running.stop(), service.stop(), indicator.close()]);
    },
  };
}
