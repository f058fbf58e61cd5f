import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLifelineError } from '../errors.js';
import { agentConfigSchema, agentConsoles } from './agent-config.js';
import { ConfigError } from './config-error.js';
import { loadConfigFile, renderConfigFile } from './config-loader.js';
import { parseConfigText } from './config-parse.js';
import { relayConfigSchema } from './relay-config.js';

const hash = '$scrypt$N=16384,r=8,p=1$c2FsdA$aGFzaA';
const relayYaml = `
listen: { host: 0.0.0.0, port: 443 }
hostKeyFile: /var/lib/lifeline/relay_host_ed25519
users:
  - name: alice
    password: "${hash}"
    authorizedKeys: ["ssh-ed25519 AAAA alice@laptop"]
    devices: [rtr-tokyo-01, sw-osaka-02]
devices:
  - id: rtr-tokyo-01
    agentKey: "ssh-ed25519 AAAA agent"
  - id: sw-osaka-02
    agentKey: "ssh-ed25519 BBBB agent"
`;

function problemsOf(fn: () => unknown): ConfigError['problems'] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('relay config', () => {
  it('accepts the documented example and fills in defaults', () => {
    const config = parseConfigText('relay.yaml', relayYaml, relayConfigSchema);
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 443 });
    expect(config.users[0]?.devices).toEqual(['rtr-tokyo-01', 'sw-osaka-02']);
    expect(config.devices[0]?.breakMs).toBe(500);
    expect(config.escapeChar).toBe('^]');
  });

  it('accepts a user naming a device that does not exist yet (the relay warns; it may be enrolled later)', () => {
    const config = parseConfigText('relay.yaml', relayYaml.replace('sw-osaka-02]', 'nope]'), relayConfigSchema);
    expect(config.users[0]?.devices).toEqual(['rtr-tokyo-01', 'nope']);
  });

  it('accepts globs, label selectors, a default device and device labels', () => {
    const yaml = relayYaml
      .replace(
        'devices: [rtr-tokyo-01, sw-osaka-02]',
        'devices: ["rtr-tokyo-*"]\n    deviceLabels: [{ site: osaka }]\n    defaultDevice: sw-osaka-02',
      )
      .replace('  - id: sw-osaka-02\n', '  - id: sw-osaka-02\n    labels: { site: osaka, kind: switch }\n');
    const config = parseConfigText('relay.yaml', yaml, relayConfigSchema);
    expect(config.users[0]).toMatchObject({ devices: ['rtr-tokyo-*'], deviceLabels: [{ site: 'osaka' }], defaultDevice: 'sw-osaka-02' });
    expect(config.devices[1]?.labels).toEqual({ site: 'osaka', kind: 'switch' });
    expect(config.devices[0]?.labels).toEqual({});
  });

  it('names the key of an empty label selector and of a device pattern with other characters', () => {
    const yaml = relayYaml.replace('devices: [rtr-tokyo-01, sw-osaka-02]', 'devices: ["rtr tokyo"]\n    deviceLabels: [{}]');
    const problems = problemsOf(() => parseConfigText('relay.yaml', yaml, relayConfigSchema));
    expect(problems.map((p) => p.key).sort()).toEqual(['users[0].deviceLabels[0]', 'users[0].devices[0]']);
  });

  it('refuses a plain-text password', () => {
    const problems = problemsOf(() => parseConfigText('relay.yaml', relayYaml.replace(hash, 'hunter2'), relayConfigSchema));
    expect(problems[0]?.key).toBe('users[0].password');
    expect(problems[0]?.message).toMatch(/hash-password/);
  });

  it('refuses a misspelt key instead of ignoring it', () => {
    const problems = problemsOf(() => parseConfigText('relay.yaml', relayYaml.replace('hostKeyFile', 'hostkeyfile'), relayConfigSchema));
    expect(problems).toEqual([expect.objectContaining({ key: '(top level)', message: expect.stringMatching(/hostkeyfile/) })]);
  });

  it('refuses a port out of range', () => {
    const problems = problemsOf(() => parseConfigText('relay.yaml', relayYaml.replace('port: 443', 'port: 70000'), relayConfigSchema));
    expect(problems).toEqual([expect.objectContaining({ key: 'listen.port' })]);
  });

  it('reports a YAML syntax error with its line', () => {
    const problems = problemsOf(() => parseConfigText('relay.yaml', 'listen: { host: [\n', relayConfigSchema));
    expect(problems[0]?.file).toBe('relay.yaml');
    expect(problems[0]?.key).toMatch(/^line \d+$/);
  });

  it('refuses the login names reserved for agents and relay group members', () => {
    for (const reserved of ['lifeline-agent', 'lifeline-enrol', 'lifeline-relay']) {
      const problems = problemsOf(() =>
        parseConfigText('relay.yaml', relayYaml.replace('name: alice', `name: ${reserved}`), relayConfigSchema),
      );
      expect(problems[0]?.key).toBe('users[0].name');
      expect(problems[0]?.message).toContain('reserved');
    }
  });
});

describe('agent config', () => {
  const agentYaml = `
relay: { host: relay.example.com, port: 443, hostKey: "SHA256:${'A'.repeat(43)}" }
device: rtr-tokyo-01
keyFile: /var/lib/lifeline/agent_ed25519
console: { type: serial, path: /dev/ttyUSB0, baudRate: 9600 }
`;

  it('accepts the documented example with serial defaults', () => {
    const config = parseConfigText('agent.yaml', agentYaml, agentConfigSchema);
    expect(config.console).toEqual({
      type: 'serial',
      path: '/dev/ttyUSB0',
      baudRate: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      flowControl: 'none',
    });
  });

  it('accepts the telnet and sim console forms', () => {
    const telnet = parseConfigText(
      'agent.yaml',
      agentYaml.replace(/console: .*/, 'console: { type: telnet, host: 10.0.0.5, port: 7001 }'),
      agentConfigSchema,
    );
    expect(telnet.console).toMatchObject({ type: 'telnet', host: '10.0.0.5', port: 7001 });
    const sim = parseConfigText('agent.yaml', agentYaml.replace(/console: .*/, 'console: { type: sim }'), agentConfigSchema);
    expect(sim.console?.type).toBe('sim');
  });

  it('names the key of a host key that is not a fingerprint', () => {
    const problems = problemsOf(() => parseConfigText('agent.yaml', agentYaml.replace(/SHA256:A+/, 'ssh-ed25519 AAAA'), agentConfigSchema));
    expect(problems[0]).toMatchObject({ file: 'agent.yaml', key: 'relay.hostKey' });
  });

  it('takes several consoles, each its own device', () => {
    const yaml = agentYaml
      .replace(/^device: .*\n/m, '')
      .replace(/^console: .*$/m, 'consoles:\n  - { device: a, type: sim }\n  - { device: b, type: telnet, host: 10.0.0.5, port: 7001 }');
    const config = parseConfigText('agent.yaml', yaml, agentConfigSchema);
    expect(agentConsoles(config).map((c) => [c.deviceId, c.console.type])).toEqual([
      ['a', 'sim'],
      ['b', 'telnet'],
    ]);
  });

  it('refuses both forms at once, neither, and a device listed twice', () => {
    const both = agentYaml + 'consoles:\n  - { device: a, type: sim }\n';
    expect(problemsOf(() => parseConfigText('agent.yaml', both, agentConfigSchema))[0]).toMatchObject({ key: 'consoles' });
    const neither = agentYaml.replace(/^device: .*\n/m, '').replace(/^console: .*\n/m, '');
    expect(problemsOf(() => parseConfigText('agent.yaml', neither, agentConfigSchema)).map((p) => p.key)).toEqual(['device', 'console']);
    const twice = neither + 'consoles:\n  - { device: a, type: sim }\n  - { device: a, type: sim }\n';
    expect(problemsOf(() => parseConfigText('agent.yaml', twice, agentConfigSchema))[0]).toMatchObject({
      key: 'consoles[1].device',
      message: 'duplicate device "a"',
    });
  });

  it('names the key of an unknown console type', () => {
    const problems = problemsOf(() => parseConfigText('agent.yaml', agentYaml.replace('type: serial', 'type: modem'), agentConfigSchema));
    expect(problems[0]?.key).toBe('console.type');
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says which file it could not read', async () => {
    const file = join(dir, 'missing.yaml');
    await expect(loadConfigFile(file, 'relay')).rejects.toSatisfy(
      (err) => isLifelineError(err, 'CONFIG_UNREADABLE') && (err as Error).message.includes(file),
    );
  });

  it('returns the validated, defaulted config read in a child process', async () => {
    const file = join(dir, 'good.yaml');
    await writeFile(file, relayYaml);
    const config = await loadConfigFile(file, 'relay');
    expect(config.devices.map((d) => [d.id, d.breakMs])).toEqual([
      ['rtr-tokyo-01', 500],
      ['sw-osaka-02', 500],
    ]);
    expect(config.escapeChar).toBe('^]');
  });

  it('rebuilds every problem the reader found as a ConfigError in the caller', async () => {
    const file = join(dir, 'two-problems.yaml');
    await writeFile(file, relayYaml.replace('port: 443', 'port: 70000').replace(hash, 'hunter2'));
    const err: unknown = await loadConfigFile(file, 'relay').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.key).sort()).toEqual(['listen.port', 'users[0].password']);
    expect((err as ConfigError).message.split('\n')).toEqual((err as ConfigError).problems.map((p) => `${file}: ${p.key}: ${p.message}`));
  });

  it('puts the file name in front of every problem', async () => {
    const file = join(dir, 'relay.yaml');
    await writeFile(file, 'listen: { port: -1 }\n');
    await expect(loadConfigFile(file, 'relay')).rejects.toThrow(`${file}: listen.port:`);
  });

  it('refuses a YAML alias bomb as a config problem instead of expanding it', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    const problems = problemsOf(() => parseConfigText('relay.yaml', bomb, relayConfigSchema));
    expect(problems).toEqual([
      { file: 'relay.yaml', key: '(yaml)', message: expect.stringMatching(/alias.*\(at most 100 alias expansions\)/i) },
    ]);
  });

  it('reads a config that uses a few aliases', () => {
    const yaml = `${relayYaml}\nauth: &auth { failureDelayMs: 5 }\n`;
    expect(parseConfigText('relay.yaml', yaml, relayConfigSchema).auth.failureDelayMs).toBe(5);
  });

  it('refuses a FIFO as config without waiting for a writer', async () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    await expect(loadConfigFile(fifo, 'relay')).rejects.toThrow(`${fifo}: cannot read config: ${fifo} is not a regular file`);
  });
});

describe('renderConfigFile', () => {
  const agent = {
    relay: { host: 'relay.example.net', hostKey: `SHA256:${'A'.repeat(43)}` },
    device: 'rtr-tokyo-01',
    console: { type: 'serial', path: '/dev/ttyUSB0' },
  };

  it('makes YAML text of the value as given, which reads back as that config', () => {
    return renderConfigFile('agent.yaml', 'agent', agent).then((text) => {
      expect(text).not.toContain('baudRate'); // the defaults are left to the reader
      const config = parseConfigText('agent.yaml', text, agentConfigSchema);
      expect(config).toMatchObject({ ...agent, relay: { ...agent.relay, port: 443 } });
      expect(config.console).toMatchObject({ type: 'serial', baudRate: 9600 });
    });
  });

  it("checks the value with the kind's schema in the reader, naming the file and every key", async () => {
    const bad = { ...agent, relay: { host: '', hostKey: 'MD5:x' } };
    const err: unknown = await renderConfigFile('/etc/lifeline/agent.yaml', 'agent', bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => `${p.file}: ${p.key}`).sort()).toEqual([
      '/etc/lifeline/agent.yaml: relay.host',
      '/etc/lifeline/agent.yaml: relay.hostKey',
    ]);
  });
});
