import { loadOrCreateKey, resolveFromConfig, type AgentConfig, type Logger } from '@lifeline/shared';
import { createConsolePort } from './console/create-console-port.js';
import { ConsoleService } from './console/console-service.js';
import { TelnetConsoleStream } from './console/telnet-console-stream.js';
import { RelayTunnel, type TunnelState } from './tunnel/relay-tunnel.js';

export interface RunningAgent {
  readonly tunnelState: TunnelState;
  stop(): Promise<void>;
}

/**
 * Wires one agent: its key, the console it serves, and the tunnel to the relay. The state-change
 * seam (`onTunnelState`) is where the status LED and health checks attach.
 */
export async function startAgent(
  config: AgentConfig,
  configFile: string,
  logger: Logger,
  hooks: { onTunnelState?: (to: TunnelState) => void } = {},
): Promise<RunningAgent> {
  const keyFile = resolveFromConfig(configFile, config.keyFile);
  const key = await loadOrCreateKey(keyFile, `lifeline-agent@${config.device}`);
  if (key.generated) {
    logger.warn({ event: 'key.generated', keyFile, fingerprint: key.fingerprint }, `generated agent key; enrol it on the relay as agentKey of ${config.device}: ${key.publicKeyLine}`);
  }
  const consoleConfig = config.console.type === 'serial' ? { ...config.console, path: resolveFromConfig(configFile, config.console.path) } : config.console;
  const port = createConsolePort(consoleConfig, { logger });
  const service = new ConsoleService({ deviceId: config.device, port, retryMs: config.consoleRetryMs, logger });
  const tunnel = new RelayTunnel({
    relay: config.relay,
    deviceIds: [config.device],
    privateKey: key.privateKey,
    reconnect: config.reconnect,
    logger,
    onStream: (_deviceId, stream) => service.attachStream(new TelnetConsoleStream(stream, logger)),
    onStateChange: ({ to }) => hooks.onTunnelState?.(to),
  });
  service.start();
  tunnel.start();
  logger.info({ event: 'agent.start', device: config.device, relay: `${config.relay.host}:${config.relay.port}`, console: port.description }, 'agent started');
  return {
    get tunnelState() {
      return tunnel.state;
    },
    async stop() {
      await tunnel.stop();
      await service.stop();
    },
  };
}
