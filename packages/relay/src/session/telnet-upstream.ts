import { TelnetConsoleClient, type Logger } from '@lifeline/shared/core';
import type { AgentTunnel } from '../tunnel/agent-tunnel.js';
import type { UpstreamConsole } from './upstream-console.js';

/**
 * Opens a console stream through an agent's tunnel and speaks Telnet (binary, RFC 2217) on it
 * as the client, the way a person's telnet would talk to ser2net (docs/protocol.md). The
 * adapter is shared with the agent's end (TelnetConsoleServer), so both sides follow one rule.
 */
export async function openTelnetUpstream(tunnel: AgentTunnel, logger: Logger): Promise<UpstreamConsole> {
  const stream = await tunnel.openStream({ address: '127.0.0.1', port: 0 });
  return new TelnetConsoleClient(stream, logger.child({ component: 'upstream', deviceId: tunnel.deviceId, tunnelPort: tunnel.tunnelPort }));
}
