import type { z } from 'zod';
import { agentConfigSchema } from './agent-config.js';
import { operatorMessage } from '../cli-message.js';
import { ConfigError } from './config-error.js';
import { parseConfigText } from './config-parse.js';
import { AGENT_EXAMPLE_YAML, RELAY_EXAMPLE_YAML } from './config-examples.js';
import { relayConfigSchema } from './relay-config.js';
import { schemaTables, type KeyTable } from './schema-tables.js';

/** One kind of config file as documented: its schema, example, and what the tables cannot say. */
interface FileKind {
  file: string;
  program: string;
  intro: string;
  schema: z.ZodType;
  /** Checks across keys (zod refinements), which JSON Schema and so the tables do not show. */
  rules: string[];
  example: string;
}

const FILE_KINDS: FileKind[] = [
  {
    file: 'relay.yaml',
    program: 'lifeline-relay run --config /etc/lifeline/relay.yaml',
    intro: 'The relay: its SSH listener and host key, the people who may log in, and the devices reachable through edge agents.',
    schema: relayConfigSchema,
    rules: [
      'Device ids (`devices[].id`) and user names (`users[].name`) are unique.',
      'An id in `users[].devices` that names no device is logged as a warning at start and reload, not refused (the device may be enrolled later); globs (`rtr-tokyo-*`) and `deviceLabels` selectors match whatever devices exist at the time.',
      'Each user has a `password` or at least one `authorizedKeys` entry.',
      "`devices[].breakMs` is at most that device's `maxBreakMs`.",
      'The user names `lifeline-agent`, `lifeline-enrol` and `lifeline-relay` are reserved: edge agents and the members of a relay group log in with them.',
      '`group` needs `store.type: postgres` (the members share their state there), and `group.expiryMs` is at least 3 x `group.heartbeatMs`.',
      'A relative `stateDir` is relative to the folder of relay.yaml; relative `hostKeyFile`, `recordingsDir`, `consoleLog.dir` and `adminSocket` are inside `stateDir`: everything the relay writes lives in its state folder (and the admin socket by default in the runtime folder /run/lifeline).',
    ],
    example: RELAY_EXAMPLE_YAML,
  },
  {
    file: 'agent.yaml',
    program: 'lifeline-agent run --config /etc/lifeline/agent.yaml',
    intro:
      "The edge agent: which relay to dial out to (and its pinned host key), the device it serves, and how to reach that device's console.",
    schema: agentConfigSchema,
    rules: [
      "`device` must match a `devices[].id` in the relay's relay.yaml whose `agentKey` is this agent's public key (`lifeline-agent pubkey`).",
      'A relative `stateDir` is relative to the folder of agent.yaml; a relative `keyFile` is inside `stateDir`. Files the agent only reads (`console.path`, `passwordFile`) are relative to the folder of agent.yaml.',
    ],
    example: AGENT_EXAMPLE_YAML,
  },
];

const PREAMBLE = () => `# Configuration reference

<!-- Generated from packages/shared/src/config/*.ts by \`npm run docs:config\`; do not edit by hand.
     A test fails when this file and the schemas disagree. -->

lifeline reads one YAML file per program: [relay.yaml](#relayyaml) for \`lifeline-relay\` and
[agent.yaml](#agentyaml) for \`lifeline-agent\`, both given with \`--config FILE\` (conventionally in
\`/etc/lifeline/\`). The tables below come from the same schemas the programs validate with.

## How config files are read

- **Unknown keys are errors.** A misspelt key is reported, never silently ignored.
- **Defaults** fill in every key marked with one; a key marked **required** must be present.
- **Paths the program writes live in its state folder.** \`stateDir\` (default \`/var/lib/lifeline\`),
  when relative, is relative to the folder of the config file. Relative \`hostKeyFile\`,
  \`recordingsDir\`, \`consoleLog.dir\`, \`adminSocket\` (relay) and \`keyFile\` (agent) are inside
  \`stateDir\`. Files a program only reads (\`console.path\`, \`passwordFile\`) are relative to the
  folder of the config file. Nothing is relative to the working directory. So the config folder
  (\`/etc/lifeline\`, root-owned) can stay read-only to the program.
- **\`check\` before a start.** \`lifeline-relay check --config FILE\` and \`lifeline-agent check --config FILE\`
  run every check a start runs (the file, key files, password hashes, public keys, folders it must
  create or write), change nothing, and print \`ok: ...\` (exit 0) or every problem (exit 78).
- **Every problem is reported at once**, one line each, as \`FILE: KEY: PROBLEM\`, where KEY is the
  path of the key in the file (a YAML syntax error gives \`line N\` instead):

  \`\`\`text
  ${indent(sampleRuns(), '  ')}
  \`\`\`

- **Exit code 78** (\`EX_CONFIG\`) means a bad config: the file is missing or unreadable, fails
  validation, or names a key file that cannot be read or is readable by group or others, a
  password hash or public key that does not parse. Other start-up mistakes have their own code:
  64 bad command line, 69 port already in use or Node.js too old, 73 a folder or file it must
  create or write cannot be, 77 the port needs privilege. The systemd units set
  \`RestartPreventExitStatus=64 69 73 77 78\`, so systemd does not restart a program in a loop over
  a mistake only a person can fix. 0 is a clean shutdown (SIGTERM or SIGINT), 1 a crash
  (restarted by systemd). See docs/operations.md.

In the tables, a key path like \`users[].devices\` means the key \`devices\` of each entry of the
list \`users\`; \`console\` with \`type: serial\` lists the keys allowed when \`console.type\` is \`serial\`.
`;

/**
 * Renders docs/config.md: how config files are read, then for relay.yaml and agent.yaml a table of
 * keys per object (path, type, default, allowed values, description), the checks across keys, and
 * a complete commented example. Pure; the same schemas always give the same text.
 */
export function renderConfigReference(): string {
  return [PREAMBLE(), ...FILE_KINDS.map(renderFileKind)].join('\n');
}

/** What lifeline-relay prints for relay.yaml with typical mistakes: the real loader's words, exit code 78. */
function sampleRun(mistakes: Array<[string, string]>): string {
  const broken = mistakes.reduce((text, [from, to]) => text.replace(from, to), RELAY_EXAMPLE_YAML);
  const problems = (() => {
    try {
      parseConfigText('/etc/lifeline/relay.yaml', broken, relayConfigSchema);
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    throw new Error('a broken sample relay.yaml was accepted');
  })();
  return ['$ lifeline-relay run --config /etc/lifeline/relay.yaml', operatorMessage('lifeline-relay', problems), '$ echo $?', '78'].join(
    '\n',
  );
}

function sampleRuns(): string {
  // Checks across keys run only once every key is valid on its own, hence two runs.
  const first = sampleRun([
    ['port: 443', 'port: 80443'],
    ['recordingsDir:', 'recordingDir:'],
  ]);
  const second = sampleRun([['breakMs: 500 ', 'breakMs: 5000']]);
  return `${first}\n${second}`;
}

function indent(text: string, prefix: string): string {
  return text.split('\n').join(`\n${prefix}`);
}

function renderFileKind(kind: FileKind): string {
  const sections = [
    `## ${kind.file}\n\n${kind.intro}\n\nUsed by \`${kind.program}\`.\n`,
    ...schemaTables(kind.schema).map(renderTable),
    `### Checks across keys\n\n${kind.rules.map((r) => `- ${r}`).join('\n')}\n`,
    `### Example\n\n\`\`\`yaml\n${kind.example.trimEnd()}\n\`\`\`\n`,
  ];
  return sections.join('\n');
}

function renderTable(table: KeyTable): string {
  const lines = [
    `### ${table.title}`,
    '',
    '| Key | Type | Default | Allowed | Description |',
    '| --- | --- | --- | --- | --- |',
    ...table.rows.map((r) => `| ${r.key} | ${r.type} | ${r.default} | ${r.allowed || 'any'} | ${r.description} |`),
  ];
  return `${lines.join('\n')}\n`;
}
