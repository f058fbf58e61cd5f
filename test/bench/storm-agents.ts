/**
 * A worker process of the storm and relay group benchmarks (storm-bench.ts, group-bench.ts): runs
 * a share of the fleet, each agent with a tunnel to every relay it is given, with the edge agent's
 * own tunnel code (RelayDialer, RelayTunnel with its backoff, HealthChecker,
 * ProbeResponder), each agent with its own key and defaults from agent.yaml's schema. It tells
 * the parent when an agent connects, and on request how many dials it made and how they ended.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Duplex } from 'node:stream';
import { TelnetEndpoint, agentConfigSchema, silentLogger } from '@lifeline/shared';
import type * as DialerModule from '../../packages/edge-agent/dist/tunnel/relay-dialer.js';
import type * as TunnelModule from '../../packages/edge-agent/dist/tunnel/relay-tunnel.js';
import type * as CheckerModule from '../../packages/edge-agent/dist/tunnel/health-checker.js';
import type * as ResponderModule from '../../packages/edge-agent/dist/tunnel/probe-responder.js';
import { repoRoot } from './bench-site.js';

export interface StormWorkerStart {
  /** Every agent keeps one tunnel to each of these relays (one port: one relay; several: a relay group). */
  ports: number[];
  hostKey: string;
  agents: Array<{ id: string; privateKey: string }>;
}
export type StormWorkerMessage =
  | { kind: 'connected'; id: string; port: number }
  | { kind: 'down'; id: string; port: number }
  | { kind: 'stats'; dials: number; logins: number; failed: number };

const agentModule = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(join(repoRoot, 'packages/edge-agent/dist', path)).href)) as T;

async function run(start: StormWorkerStart): Promise<void> {
  const { RelayDialer } = await agentModule<typeof DialerModule>('tunnel/relay-dialer.js');
  const { RelayTunnel } = await agentModule<typeof TunnelModule>('tunnel/relay-tunnel.js');
  const { HealthChecker } = await agentModule<typeof CheckerModule>('tunnel/health-checker.js');
  const { ProbeResponder } = await agentModule<typeof ResponderModule>('tunnel/probe-responder.js');
  const stats = { dials: 0, logins: 0, failed: 0 };
  const logger = silentLogger();
  for (const agent of start.agents)
    for (const port of start.ports) {
      const config = agentConfigSchema.parse({
        relay: { host: '127.0.0.1', port, hostKey: start.hostKey },
        device: agent.id,
        console: { type: 'sim' },
      });
      const dialer = new RelayDialer({
        relay: config.relay,
        privateKey: Buffer.from(agent.privateKey),
        connectTimeoutMs: config.reconnect.connectTimeoutMs,
        keepalive: config.keepalive,
        logger,
      });
      const dial = dialer.dial.bind(dialer);
      dialer.dial = async (...args) => {
        stats.dials++;
        try {
          const dialed = await dial(...args);
          stats.logins++;
          return dialed;
        } catch (err) {
          stats.failed++;
          throw err;
        }
      };
      const responder = new ProbeResponder();
      // eslint-disable-next-line prefer-const -- the checker and the tunnel refer to each other, as in agent.ts
      let tunnel: InstanceType<typeof RelayTunnel> | undefined;
      const checker = new HealthChecker({
        openProbe: (deviceId) => tunnel?.openProbe(deviceId) ?? Promise.reject(new Error('not started')),
        deviceIds: [agent.id],
        intervalMs: config.health.intervalMs,
        timeoutMs: config.health.timeoutMs,
        failuresBeforeReconnect: config.health.failuresBeforeReconnect,
        responder,
        logger,
        onResult: () => undefined,
        onUnhealthy: (reason) => tunnel?.restart(reason),
      });
      tunnel = new RelayTunnel({
        dialer,
        deviceIds: [agent.id],
        reconnect: config.reconnect,
        logger,
        onStream: (_deviceId: string, stream: Duplex) => {
          const telnet = new TelnetEndpoint(stream, { role: 'server', comPort: true });
          telnet.on('error', () => undefined);
        },
        onProbe: (_deviceId: string, stream: Duplex) => responder.answer(stream),
        onStateChange: ({ from, to }) => {
          if (to === 'connected') {
            checker.tunnelUp();
            process.send?.({ kind: 'connected', id: agent.id, port } satisfies StormWorkerMessage);
          } else {
            checker.tunnelDown();
            // A tunnel that was up went down (not a dial that failed on the way up).
            if (from === 'connected') process.send?.({ kind: 'down', id: agent.id, port } satisfies StormWorkerMessage);
          }
        },
      });
      tunnel.start();
    }
  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'stats') process.send?.({ kind: 'stats', ...stats } satisfies StormWorkerMessage);
    if (message.kind === 'stop') process.exit(0);
  });
  process.send?.({ kind: 'stats', ...stats } satisfies StormWorkerMessage);
}

process.once('message', (start: StormWorkerStart) => void run(start));
