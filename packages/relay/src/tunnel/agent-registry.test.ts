import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { silentLogger } from '@lifeline/shared';
import type { AgentTunnel } from './agent-tunnel.js';
import { AgentRegistry } from './agent-registry.js';

function fakeTunnel(deviceId: string, tunnelPort: number) {
  const closedListeners: Array<() => void> = [];
  const tunnel = {
    deviceId,
    peer: `127.0.0.1:${tunnelPort}`,
    agentFingerprint: 'SHA256:x',
    tunnelPort,
    since: 0,
    agentVersion: 'lifelineAgent_0.1.0',
    closedReason: undefined as string | undefined,
    openStream: async () => new PassThrough(),
    close(reason: string) {
      this.closedReason = reason;
      for (const l of closedListeners) l();
    },
    drop(reason: string) {
      this.close(reason);
    },
    onClosed: (l: () => void) => void closedListeners.push(l),
  };
  return tunnel satisfies AgentTunnel;
}

describe('AgentRegistry', () => {
  it('lets a newer tunnel for a device replace and close the older one', () => {
    const registry = new AgentRegistry(silentLogger());
    const events: string[] = [];
    registry.subscribe({ online: (t) => events.push(`online:${t.tunnelPort}`), offline: (d) => events.push(`offline:${d}`) });
    const old = fakeTunnel('rtr', 1);
    const fresh = fakeTunnel('rtr', 2);
    registry.add(old);
    registry.add(fresh);
    expect(registry.current('rtr')).toBe(fresh);
    expect(old.closedReason).toMatch(/replaced/);
    // the old tunnel's close must not take the device offline
    expect(events).toEqual(['online:1', 'online:2']);
  });

  it('takes a device offline when its current tunnel closes', () => {
    const registry = new AgentRegistry(silentLogger());
    const events: string[] = [];
    registry.subscribe({ online: () => {}, offline: (d) => events.push(`offline:${d}`) });
    const t = fakeTunnel('rtr', 1);
    registry.add(t);
    t.close('agent left');
    expect(registry.current('rtr')).toBeUndefined();
    expect(events).toEqual(['offline:rtr']);
  });
});
