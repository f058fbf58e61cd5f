import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePublicKeyLine } from '../ssh-keys.js';
import { agentConfigSchema } from './agent-config.js';
import { IGNORED_AGENT_KEYS } from './ignored-keys.js';
import { AGENT_EXAMPLE_YAML, RELAY_EXAMPLE_YAML } from './config-examples.js';
import { parseConfigText } from './config-parse.js';
import { renderConfigReference } from './config-reference.js';
import { relayConfigSchema } from './relay-config.js';
import { schemaTables } from './schema-tables.js';

const docsFile = new URL('../../../../docs/config.md', import.meta.url);

/** The example's console line swapped for each `# or: console: ...` alternative below it. */
function agentExampleVariants(): string[] {
  const alternatives = [...AGENT_EXAMPLE_YAML.matchAll(/^# or: (console: .*)$/gm)].map((m) => m[1]!);
  return alternatives.map((line) => AGENT_EXAMPLE_YAML.replace(/^console: .*$/m, line));
}

/** The relay example's store line swapped for each `# or: store: ...` alternative. */
function relayStoreVariants(): string[] {
  const alternatives = [...RELAY_EXAMPLE_YAML.matchAll(/^# or: (store: .*)$/gm)].map((m) => m[1]!);
  return alternatives.map((line) => RELAY_EXAMPLE_YAML.replace(/^store: .*$/m, line));
}

/** The PostgreSQL store variant with the commented `# or: group: ...` line made live (a group needs PostgreSQL). */
function relayGroupVariant(): string {
  const group = /^# or: (group: .*)$/m.exec(RELAY_EXAMPLE_YAML)![1]!;
  return `${relayStoreVariants()[0]!}\n${group}\n`;
}

/** The example with its commented `consoles:` block in place of `device:` and `console:`. */
function agentMultiConsoleVariant(): string {
  const block = /^# consoles:\n(?:# {3}- .*\n)+/m.exec(AGENT_EXAMPLE_YAML)![0].replace(/^# /gm, '');
  return AGENT_EXAMPLE_YAML.replace(/^device: .*\n/m, '').replace(/^console: .*$/m, block);
}

function agentLedVariants(): string[] {
  const alternatives = [...AGENT_EXAMPLE_YAML.matchAll(/^ {2}# or: (led: .*)$/gm)].map((m) => m[1]!);
  return alternatives.map((line) => AGENT_EXAMPLE_YAML.replace(/^ {2}led: .*$/m, `  ${line}`));
}

/** Key paths written in YAML texts, in the tables' notation (`users[].name`). */
function keyPathsIn(texts: string[]): Set<string> {
  const paths = new Set<string>();
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) value.forEach((item) => walk(item, `${path}[]`));
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const childPath = path ? `${path}.${key}` : key;
        paths.add(childPath);
        walk(child, childPath);
      }
    }
  };
  for (const text of texts) walk(parse(text), '');
  return paths;
}

function documentedKeyPaths(schema: z.ZodType): string[] {
  return schemaTables(schema).flatMap((t) => t.rows.map((r) => r.key.replace(/`/g, '')));
}

describe('docs/config.md', () => {
  it('is what renderConfigReference() renders from the schemas', async () => {
    const onDisk = await readFile(docsFile, 'utf8').catch(() => '(missing)');
    expect(onDisk, 'docs/config.md is out of date: run `npm run docs:config`').toBe(renderConfigReference());
  });

  it('has a row for nested keys, list entries and each console type', () => {
    const doc = renderConfigReference();
    expect(doc).toContain('| `listen.port` | integer | `443` | 0 to 65535 | TCP port');
    expect(doc).toContain('| `users[].devices` | list of strings | `[]` | each 1 to 64 characters');
    expect(doc).toContain('### `console` with `type: telnet`');
    expect(doc).toContain('| `console.rfc2217` | boolean | `true` |');
  });

  it("shows the loader's own report of a bad config", () => {
    expect(renderConfigReference()).toContain('lifeline-relay: /etc/lifeline/relay.yaml: listen.port: ');
  });
});

describe('the examples in docs/config.md', () => {
  it('validate as relay.yaml, with public key lines that parse as keys', () => {
    const config = parseConfigText('relay.yaml', RELAY_EXAMPLE_YAML, relayConfigSchema);
    expect(config.users.map((u) => u.name)).toEqual(['alice', 'bob', 'carol']);
    const keyLines = [...config.users.flatMap((u) => u.authorizedKeys), ...config.devices.flatMap((d) => d.agentKey ?? [])];
    expect(keyLines).toHaveLength(5);
    for (const line of keyLines) expect(parsePublicKeyLine(line).type).toBe('ssh-ed25519');
  });

  it('validate as agent.yaml with every console alternative', () => {
    const variants = agentExampleVariants();
    expect(variants).toHaveLength(3);
    const types = [AGENT_EXAMPLE_YAML, ...variants].map((text) => parseConfigText('agent.yaml', text, agentConfigSchema).console?.type);
    expect(types).toEqual(['serial', 'telnet', 'sim', 'ipmi-sol']);
  });

  it('validate as relay.yaml with every store alternative', () => {
    const types = [RELAY_EXAMPLE_YAML, ...relayStoreVariants()].map(
      (text) => parseConfigText('relay.yaml', text, relayConfigSchema).store.type,
    );
    expect(types).toEqual(['sqlite', 'postgres']);
  });

  it('validate as relay.yaml as a member of a relay group', () => {
    const config = parseConfigText('relay.yaml', relayGroupVariant(), relayConfigSchema);
    expect(config.group).toEqual({
      advertise: { host: 'relay1.example.net', port: 443 },
      heartbeatMs: 2000,
      expiryMs: 7000,
      presenceFlushMs: 500,
    });
    expect(() =>
      parseConfigText('relay.yaml', `${RELAY_EXAMPLE_YAML}\ngroup: { advertise: { host: relay1 } }\n`, relayConfigSchema),
    ).toThrow(/group: a relay group shares its state in PostgreSQL: needs store.type postgres/);
  });

  it('validate as agent.yaml with every status LED alternative', () => {
    const types = [AGENT_EXAMPLE_YAML, ...agentLedVariants()].map(
      (text) => parseConfigText('agent.yaml', text, agentConfigSchema).status.led.type,
    );
    expect(types).toEqual(['gpio', 'sysfs-led', 'none']);
  });

  it('validate as agent.yaml in the several-consoles form', () => {
    const config = parseConfigText('agent.yaml', agentMultiConsoleVariant(), agentConfigSchema);
    expect(config.consoles?.map((c) => c.device)).toEqual(['rtr-tokyo-01', 'sw-tokyo-02', 'srv-tokyo-03']);
  });

  it('write out every key the schemas know', () => {
    const agentKeys = keyPathsIn([AGENT_EXAMPLE_YAML, ...agentExampleVariants(), ...agentLedVariants(), agentMultiConsoleVariant()]);
    // Keys kept only so older files load are left out of the examples.
    const ignored = new Set<string>(IGNORED_AGENT_KEYS);
    expect(documentedKeyPaths(agentConfigSchema).filter((k) => !agentKeys.has(k) && !ignored.has(k))).toEqual([]);
    // relay.yaml's enrolment.status is agent.yaml's status (the same schema), written out in full there.
    const relayKeys = keyPathsIn([RELAY_EXAMPLE_YAML, ...relayStoreVariants(), relayGroupVariant()]);
    const agentStatus = (k: string) => k.startsWith('enrolment.status.') && agentKeys.has(k.slice('enrolment.'.length));
    expect(documentedKeyPaths(relayConfigSchema).filter((k) => !relayKeys.has(k) && !agentStatus(k))).toEqual([]);
  });
});

describe('schemaTables', () => {
  const schema = z
    .object({
      name: z
        .string()
        .regex(/^(a|b)$/)
        .describe('Either | or.'),
      count: z.number().int().min(10).default(20),
      tags: z.array(z.object({ id: z.string() }).strict()).optional(),
      link: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('tcp'), port: z.number().int().min(1).max(9) }).strict(),
        z.object({ kind: z.literal('file'), path: z.string().min(1) }).strict(),
      ]),
    })
    .strict();

  it('marks keys without a default as required and leaves out the bound zod adds to integers', () => {
    const [top] = schemaTables(schema);
    expect(top?.rows.find((r) => r.key === '`name`')?.default).toBe('**required**');
    expect(top?.rows.find((r) => r.key === '`count`')).toMatchObject({ type: 'integer', default: '`20`', allowed: '>= 10' });
    expect(top?.rows.find((r) => r.key === '`tags`')?.default).toBe('optional, no default');
  });

  it('escapes pipes so a pattern or description cannot split a table cell', () => {
    const name = schemaTables(schema)[0]?.rows.find((r) => r.key === '`name`');
    expect(name?.allowed).toBe('matches `^(a\\|b)$`');
    expect(name?.description).toBe('Either \\| or.');
  });

  it('gives list entries and each variant of a union a table of their own', () => {
    const tables = schemaTables(schema);
    expect(tables.map((t) => t.title)).toEqual(['Top level', '`tags[]`', '`link` with `kind: tcp`', '`link` with `kind: file`']);
    expect(tables[2]?.rows.map((r) => [r.key, r.allowed])).toEqual([
      ['`link.kind`', '`tcp`'],
      ['`link.port`', '1 to 9'],
    ]);
  });
});
