import type { Duplex } from 'node:stream';
import {
  IGNORED_AGENT_KEYS,
  LIFELINE_VERSION,
  type GroupNotice,
  type LifelineError,
  TelnetConsoleServer,
  agentPaths,
  cannotCreate,
  generateKeyPair,
  readKeyFile,
  writeNewKey,
  type AgentConfig,
  type Logger,
  type SshKeyPair,
} from '@lifeline/shared/core';
import { agentKeyComment } from './agent-preflight.js';
import { AgentStatus } from './agent-status.js';
import { createConsolePort } from './console/create-console-port.js';
import { consoleFacts } from './console/console-facts.js';
import { ConsoleService } from './console/console-service.js';
import { WriterFence } from './console/writer-fence.js';
import { WriterTokens } from './console/writer-tokens.js';
import { createPowerControl, type PowerControl } from './console/power-control.js';
import { createStatusIndicator } from './led/create-status-indicator.js';
import { answerPowerRequest } from './tunnel/power-responder.js';
import { GroupMemory } from './tunnel/group-memory.js';
import type { HealthResult } from './tunnel/health-checker.js';
import { ProbeResponder } from './tunnel/probe-responder.js';
import { RelayLink } from './tunnel/relay-link.js';
import { RelayLinks } from './tunnel/relay-links.js';
import { relayName } from './tunnel/relay-dialer.js';
import type { TunnelState } from './tunnel/relay-tunnel.js';

export interface RunningAgent {
  /** `connected` while at least one relay's tunnel is; otherwise the state of the last one that changed. */
  readonly tunnelState: TunnelState;
  /** Runs one loopback health check per device now, on every relay's tunnel. */
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
 * Wires one agent: its key, the consoles it serves (each its own device on the relay), a tunnel
 * with a forward per device to the relay (to every member of a relay group: relay-links.ts), the
 * loopback health check of each tunnel, and the status LED (and hook) that shows it all: healthy
 * while at least one relay's tunnel is up and proven.
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
  for (const key of IGNORED_AGENT_KEYS) {
    if (config[key] !== undefined)
      logger.warn({ event: 'config.ignored', key }, `${configFile}: ${key} is ignored by this release (docs/config.md); remove it`);
  }
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
  // The writer fences outlive a restart (writer-tokens.ts).
  const writerTokens = new WriterTokens(paths.writerTokensFile, logger);
  const fences = await writerTokens.load();
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
        fence: new WriterFence({
          restored: fences.get(deviceId),
          onRaise: (fence) => void writerTokens.remember(deviceId, fence),
        }),
      }),
    );
  }
  const responder = new ProbeResponder();
  const memory = new GroupMemory(paths.groupFile, logger);
  let tunnelState: TunnelState = 'initial';
  // Assigned below: the links and their handlers refer to each other.
  // eslint-disable-next-line prefer-const
  let links: RelayLinks<RelayLink>;
  const connected = () => links.all().filter((l) => l.state === 'connected');
  const settings = {
    hostKey: config.relay.hostKey,
    privateKey: key.privateKey,
    ident: AGENT_IDENT,
    deviceIds,
    reconnect: config.reconnect,
    keepalive: config.keepalive,
    health: config.health,
    responder,
    logger,
  };
  const handlers = {
    onStream: (deviceId: string, stream: Duplex, source: string) =>
      services.get(deviceId)?.attachStream(new TelnetConsoleServer(stream, logger.child({ deviceId })), source),
    onPower: (deviceId: string, stream: Duplex) => {
      const control = powers.get(deviceId);
      answerPowerRequest(stream, deviceId, control ? (action) => control.power(action) : undefined, logger);
    },
    onState: (_link: RelayLink, to: TunnelState, error?: LifelineError) => {
      // The LED follows the best tunnel: connected while any relay is.
      const state = connected().length > 0 ? 'connected' : to;
      if (state !== tunnelState || (state !== 'connected' && error)) {
        tunnelState = state;
        status.tunnel(state, error);
        hooks.onTunnelState?.(state);
      }
      links.linkChanged();
    },
    onHealth: (link: RelayLink, result: HealthResult) => {
      hooks.onHealth?.(result);
      // A failed check on one relay is not the device's state while another relay's tunnel proves it.
      const provenElsewhere = connected().some((l) => l !== link && l.checks.get(result.deviceId)?.ok === true);
      if (result.ok || !provenElsewhere) status.health(result);
    },
    onGroupNotice: (notice: GroupNotice) => links.notice(notice),
  };
  const { host, port, alternates } = config.relay;
  links = new RelayLinks<RelayLink>({
    seed: { host, port },
    remembered: await memory.load(),
    openLink: (address, seed) =>
      new RelayLink(relayName(address), { primary: address, alternates: seed ? alternates : [] }, settings, handlers),
    remember: (members) => void memory.save(members),
    logger: logger.child({ component: 'relay-group' }),
  });
  for (const service of services.values()) service.start();
  links.start();
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
  return {
    get tunnelState() {
      return tunnelState;
    },
    checkHealth: async () => (await Promise.all(links.all().map((l) => l.checkHealth()))).flat(),
    async stop() {
      // All at once: the LED may wait for a running status hook (up to its timeout).
      await Promise.all([links.stop(), ...[...services.values()].map((s) => s.stop()), indicator.close()]);
    },
  };
}
