import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateKey } from '@lifeline/shared';
import { FreezeProxy } from '../support/freeze-proxy.js';
import { LifelineProcess, type LogLine } from '../support/lifeline-process.js';
import { agentBin, relayConfig, startRelay } from './bench-site.js';

export interface DeadLinkRow {
  /** From freezing the link (nothing passes, no FIN or RST) until the agent gave the connection up. */
  agentNoticedSeconds: number;
  /** Until the relay took the device offline. */
  relayNoticedSeconds: number;
}

/**
 * A relay and an edge agent with their default keepalives, joined through a TCP proxy that
 * freezes like a stalled 4G link: how long each side takes to notice the link is dead.
 */
export async function deadLink(dir: string, progress: (line: string) => void): Promise<DeadLinkRow> {
  const agentKey = await loadOrCreateKey(join(dir, 'agent_ed25519'), 'agent@rtr-1');
  const personKey = await loadOrCreateKey(join(dir, 'person_ed25519'), 'bench@person');
  const { relay, port, fingerprint } = await startRelay(
    dir,
    relayConfig({ personKey: personKey.publicKeyLine, devices: [{ id: 'rtr-1', agentKey: agentKey.publicKeyLine }] }),
  );
  const proxy = await FreezeProxy.start(() => port);
  let agent: LifelineProcess | undefined;
  try {
    const agentFile = join(dir, 'agent.yaml');
    await writeFile(
      agentFile,
      [
        `relay: { host: 127.0.0.1, port: ${proxy.port}, hostKey: "${fingerprint}" }`,
        'device: rtr-1',
        'stateDir: .',
        'console: { type: sim, hostname: rtr-1 }',
      ].join('\n'),
    );
    agent = LifelineProcess.start(agentBin, ['run', '--config', agentFile]);
    await relay.waitForLog('tunnel up', (l) => l.event === 'tunnel.up');
    // Let the connection go idle, so keepalives (not traffic) are what notices.
    await new Promise((r) => setTimeout(r, 2_000));
    progress('dead link: link frozen, waiting for both sides to notice');
    const frozenAt = Date.now();
    proxy.freeze();
    const at = (line: LogLine) => (Date.parse(String(line.time)) - frozenAt) / 1000;
    const [agentLine, relayLine] = await Promise.all([
      agent.waitForLog('agent notices', (l) => l.event === 'tunnel.state' && l.from === 'connected', 120_000),
      relay.waitForLog('relay notices', (l) => l.event === 'tunnel.down', 120_000),
    ]);
    return {
      agentNoticedSeconds: at(agentLine),
      relayNoticedSeconds: at(relayLine),
    };
  } finally {
    await agent?.stop();
    await relay.stop();
    await proxy.close();
  }
}
