import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from './agent-config.js';
import { agentPaths, relayPaths } from './install-paths.js';
import { relayConfigSchema } from './relay-config.js';

const relay = (extra: Record<string, unknown> = {}) => relayConfigSchema.parse(extra);
const agent = (extra: Record<string, unknown> = {}) =>
  agentConfigSchema.parse({ relay: { host: 'r', hostKey: `SHA256:${'A'.repeat(43)}` }, device: 'd', console: { type: 'sim' }, ...extra });

describe('relayPaths', () => {
  it('puts everything the relay writes in /var/lib/lifeline and the socket in /run/lifeline by default', () => {
    expect(relayPaths(relay(), '/etc/lifeline/relay.yaml')).toEqual({
      stateDir: '/var/lib/lifeline',
      hostKeyFile: '/var/lib/lifeline/relay_host_ed25519',
      recordingsDir: '/var/lib/lifeline/recordings',
      consoleLogDir: '/var/lib/lifeline/console-logs',
      adminSocket: '/run/lifeline/relay.sock',
      inventoryFile: '/var/lib/lifeline/inventory.db',
    });
  });

  it('resolves relative paths inside stateDir, and a relative stateDir from the config folder', () => {
    const paths = relayPaths(
      relay({ stateDir: 'state', hostKeyFile: 'keys/host', recordingsDir: '/srv/rec', adminSocket: 'a.sock' }),
      '/etc/lifeline/relay.yaml',
    );
    expect(paths).toEqual({
      stateDir: '/etc/lifeline/state',
      hostKeyFile: '/etc/lifeline/state/keys/host',
      recordingsDir: '/srv/rec',
      consoleLogDir: '/etc/lifeline/state/console-logs',
      adminSocket: '/etc/lifeline/state/a.sock',
      inventoryFile: '/etc/lifeline/state/inventory.db',
    });
  });

  it('has no inventory file when the store is PostgreSQL', () => {
    expect(relayPaths(relay({ store: { type: 'postgres', host: 'db' } }), '/etc/lifeline/relay.yaml').inventoryFile).toBeUndefined();
  });

  it('uses the defaults without a config file', () => {
    expect(relayPaths(relay(), undefined).adminSocket).toBe('/run/lifeline/relay.sock');
  });
});

describe('agentPaths', () => {
  it('puts the key in stateDir and leaves read-only files relative to the config folder', () => {
    const paths = agentPaths(
      agent({
        device: undefined,
        console: undefined,
        stateDir: 'state',
        consoles: [
          { device: 'a', type: 'serial', path: 'tty0' },
          { device: 'b', type: 'ipmi-sol', host: 'bmc', user: 'u', passwordFile: 'bmc.pw' },
        ],
      }),
      '/etc/lifeline/agent.yaml',
    );
    expect(paths.stateDir).toBe('/etc/lifeline/state');
    expect(paths.keyFile).toBe('/etc/lifeline/state/agent_ed25519');
    expect(paths.consoles.map((c) => c.console)).toEqual([
      expect.objectContaining({ path: '/etc/lifeline/tty0' }),
      expect.objectContaining({ passwordFile: '/etc/lifeline/bmc.pw' }),
    ]);
  });

  it('defaults to /var/lib/lifeline/agent_ed25519', () => {
    expect(agentPaths(agent(), '/etc/lifeline/agent.yaml').keyFile).toBe('/var/lib/lifeline/agent_ed25519');
  });
});
