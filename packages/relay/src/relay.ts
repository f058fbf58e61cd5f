import { loadOrCreateKey, resolveFromConfig, type Clock, type Logger, type RelayConfig } from '@lifeline/shared';
import { ConsoleSessions } from './session/console-sessions.js';
import { openTelnetUpstream } from './session/telnet-upstream.js';
import { createRelaySshServer } from './ssh/relay-ssh-server.js';
import { AgentRegistry } from './tunnel/agent-registry.js';

export interface RunningRelay {
  readonly address: { host: string; port: number };
  readonly hostKeyFingerprint: string;
  readonly sessions: ConsoleSessions;
  readonly agents: AgentRegistry;
  stop(): Promise<void>;
}

/** Wires the relay: host key, tunnel registry, console sessions and the SSH server in front. */
export async function startRelay(config: RelayConfig, configFile: string, logger: Logger, clock?: Clock): Promise<RunningRelay> {
  const hostKeyFile = resolveFromConfig(configFile, config.hostKeyFile);
  const hostKey = await loadOrCreateKey(hostKeyFile, 'lifeline-relay');
  if (hostKey.generated) logger.warn({ event: 'hostkey.generated', hostKeyFile }, 'generated a new relay host key');

  const agents = new AgentRegistry(logger.child({ component: 'agent-registry' }));
  const sessions = new ConsoleSessions(config, agents, { logger, clock, openUpstream: (tunnel) => openTelnetUpstream(tunnel, logger) });
  const server = createRelaySshServer({ config, hostKey: hostKey.privateKey, broker: sessions, tunnels: agents, logger, clock });
  const address = await server.listen();
  logger.info(
    { event: 'relay.listening', host: address.host, port: address.port, hostKeyFingerprint: hostKey.fingerprint, devices: config.devices.length, users: config.users.length },
    `relay listening on ${address.host}:${address.port}, host key ${hostKey.fingerprint}`,
  );
  return {
    address,
    hostKeyFingerprint: hostKey.fingerprint,
    sessions,
    agents,
    async stop() {
      sessions.close('the relay is shutting down.');
      await server.close();
    },
  };
}
