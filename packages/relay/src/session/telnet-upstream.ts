import { TelnetEndpoint, type Logger } from '@lifeline/shared';
import type { AgentTunnel } from '../tunnel/agent-tunnel.js';
import type { UpstreamConsole } from './upstream-console.js';

/**
 * Opens a console stream through an agent's tunnel and speaks Telnet (binary, RFC 2217) on it
 * as the client, the way a person's telnet would talk to ser2net (docs/protocol.md).
 */
export async function openTelnetUpstream(tunnel: AgentTunnel, logger: Logger): Promise<UpstreamConsole> {
  const stream = await tunnel.openStream({ address: '127.0.0.1', port: 0 });
  const log = logger.child({ component: 'upstream', deviceId: tunnel.deviceId, tunnelPort: tunnel.tunnelPort });
  const telnet = new TelnetEndpoint(stream, { role: 'client', comPort: true, logger: log });
  let closed = false;
  const closeListeners: Array<() => void> = [];
  const onClosed = () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  };
  telnet.on('close', onClosed);
  telnet.on('end', () => {
    telnet.end();
    onClosed();
  });
  telnet.on('error', (err) => {
    log.warn({ event: 'upstream.error', err: err.message }, 'console stream error');
    onClosed();
  });
  return {
    write: (data) => telnet.write(data),
    onceDrain: (listener) => void telnet.once('drain', listener),
    setBreak: (on) => telnet.sendBreak(on ? 'on' : 'off'),
    pause: () => void telnet.pause(),
    resume: () => void telnet.resume(),
    onData: (listener) => void telnet.on('data', listener),
    onStatus: (listener) => void telnet.on('status', listener),
    onClose: (listener) => {
      if (closed) listener();
      else closeListeners.push(listener);
    },
    close: () => {
      telnet.destroy();
      onClosed();
    },
  };
}
