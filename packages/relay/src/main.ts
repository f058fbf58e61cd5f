import {
  ExitCode,
  LIFELINE_VERSION,
  LifelineError,
  createLogger,
  exitCodeFor,
  operatorMessage,
  loadConfigFile,
  loadOrCreateKey,
  parseCommandLine as parseCommandLineOf,
  print,
  readKeyFile,
  relayPaths,
  runCli,
  shutdownSignal,
  usageError as usageErrorOf,
  systemClock,
} from '@lifeline/shared/core';
import { openInventoryStore } from './inventory/open-inventory-store.js';
import { RELAY_KEY_COMMENT, preflightRelay } from './relay-preflight.js';
import { startRelay } from './relay.js';
import { keepHeapSmallWhenQuiet } from './small-heap.js';

const NAME = 'lifeline-relay';

const usage = `lifeline-relay ${LIFELINE_VERSION}: SSH console relay.

Usage:
  lifeline-relay [run] --config relay.yaml [--pretty]   run the relay
  lifeline-relay check --config relay.yaml              check everything a start would (config, keys, folders), change nothing
  lifeline-relay hash-password                          read a password (twice on a terminal), print its hash for relay.yaml
  lifeline-relay fingerprint --config relay.yaml [--generate]
                                                        print the host key fingerprint (for agent.yaml relay.hostKey);
                                                        --generate creates the key if it is missing
  lifeline-relay sessions [--config relay.yaml] [--json]   live sessions: device, writer, viewers, since, bytes
  lifeline-relay devices [--config relay.yaml] [--user NAME] [--json]
                                                        devices: online/offline, since, last health check, agent
  lifeline-relay reload [--config relay.yaml]          re-read relay.yaml in the running relay (as SIGHUP does)
  lifeline-relay user add|passwd|set-role|remove|list ...   people in the inventory store (no restart); --help for more
  lifeline-relay device add|label|remove|list ...           devices in the inventory store; --help for more
  lifeline-relay power DEVICE status|on|off|soft|cycle|reset [--yes]   power through the device's BMC (IPMI)
  lifeline-relay enrol DEVICE [--ttl 24h] [--labels k=v,...] [--out FILE] [--relay host:port]
                                                        one-time token and enrolment file for a new Pi
  lifeline-relay approve DEVICE | revoke DEVICE         approve a pending enrolled agent; revoke one (tunnel closed at once)
  lifeline-relay recordings [--config relay.yaml] [--device D] [--user U] [--since DAY] [--until DAY] [--json]
                                                        list session recordings, newest first
  lifeline-relay replay FILE [--speed N] [--dump]       play a recording in the terminal, or print it
  lifeline-relay demo [--port 2222]                     run the embedded demo: relay, agent and a simulated router
  lifeline-relay --version | --help

Exit codes: 0 ok, 1 crash, 64 bad command line, 69 port in use or Node.js too old,
73 cannot create a folder or file, 77 port needs privilege, 78 bad config.
`;

type Subcommand = (args: string[], io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }) => Promise<number>;

/**
 * Commands that parse their own flags. Each is loaded when it runs: the daemon (`run`) loads none
 * of them, nor the config schemas and zod that some of them use (issue 11, relay-entry-modules.test.ts).
 */
const subcommands: Record<string, () => Promise<Subcommand>> = {
  recordings: async () => (await import('./cli/recordings-command.js')).runRecordings,
  replay: async () => (await import('./cli/replay-command.js')).runReplay,
  sessions: async () => (await import('./cli/sessions-command.js')).runSessions,
  devices: async () => (await import('./cli/devices-command.js')).runDevices,
  power: async () => (await import('./cli/power-command.js')).runPower,
  reload: async () => (await import('./cli/reload-command.js')).runReload,
  enrol: async () => (await import('./cli/enrol-command.js')).runEnrol,
  approve: async () => (await import('./cli/enrol-command.js')).runApprove,
  revoke: async () => (await import('./cli/enrol-command.js')).runRevoke,
  user: async () => {
    const { runUser } = await import('./cli/user-command.js');
    return (args, io) => runUser(args, { ...io, stdin: process.stdin });
  },
  device: async () => (await import('./cli/device-command.js')).runDevice,
};

async function main(argv: string[]): Promise<number> {
  const sub = argv[0] !== undefined ? subcommands[argv[0]] : undefined;
  if (sub) return (await sub())(argv.slice(1), { stdout: process.stdout, stderr: process.stderr });
  const { values, positionals } = parseCommandLine(argv);
  if (values.help) return print(usage, ExitCode.ok);
  if (values.version) return print(`${LIFELINE_VERSION}\n`, ExitCode.ok);
  const command = positionals[0] ?? 'run';
  if (positionals.length > 1) throw usageError(`unexpected argument "${positionals[1]}"`);

  switch (command) {
    case 'hash-password':
      return (await import('./cli/hash-password-command.js')).runHashPassword(process.stdin, process.stdout, process.stderr);
    case 'demo':
      return (await import('./demo/demo.js')).runDemo({ port: values.port ? portNumber(values.port) : 2222 });
    case 'fingerprint':
    case 'check':
    case 'run':
      break;
    default:
      throw usageError(`unknown command "${command}"`);
  }
  if (!values.config) throw usageError(`${command} needs --config FILE`);
  if (command === 'fingerprint') return fingerprint(values.config, values.generate === true);
  if (command === 'check') return check(values.config);

  const plan = await preflightRelay(values.config);
  const logger = createLogger({
    svc: 'relay',
    version: LIFELINE_VERSION,
    level: plan.config.log.level,
    pretty: values.pretty ?? plan.config.log.pretty,
  });
  // Before starting: a SIGHUP during a slow start must not end the process (Node's default).
  const started: { relay?: Awaited<ReturnType<typeof startRelay>> } = {};
  process.on('SIGHUP', () => {
    if (!started.relay) return logger.warn({ event: 'signal.hup' }, 'SIGHUP before the relay started; not reloading');
    // A refused file is logged (config.reload-refused) and the relay runs on as before.
    started.relay.inventory.reload().catch(() => undefined);
  });
  const openStore = () => openInventoryStore(plan.config, values.config!, logger);
  const relay = (started.relay = await startRelay(
    plan.config,
    values.config,
    logger,
    systemClock,
    plan.hostKey,
    openStore,
    plan.inventory,
  ));
  const stopHeapMode = keepHeapSmallWhenQuiet();
  const signal = await shutdownSignal();
  logger.info({ event: 'relay.stop', signal }, 'draining and stopping');
  stopHeapMode();
  await relay.stop();
  return ExitCode.ok;
}

const parseCommandLine = (argv: string[]) =>
  parseCommandLineOf(NAME, argv, {
    config: { type: 'string', short: 'c' },
    pretty: { type: 'boolean' },
    port: { type: 'string' },
    generate: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  });

const usageError = (problem: string) => usageErrorOf(NAME, problem);

function portNumber(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw usageError(`--port ${text} is not a TCP port (0-65535; 0 picks a free one)`);
  return port;
}

/** `check`: the preflight of a start, nothing created; exit 0 with a summary or 78 with every problem. */
async function check(configFile: string): Promise<number> {
  let plan;
  try {
    plan = await preflightRelay(configFile);
  } catch (err) {
    if (exitCodeFor(err) === undefined) throw err;
    return print(`${operatorMessage(NAME, (err as Error).message)}\n`, ExitCode.badConfig, process.stderr);
  }
  const { config, paths, hostKey } = plan;
  for (const warning of plan.warnings) process.stdout.write(`warning: ${warning}\n`);
  return print(
    `ok: ${configFile}: listen ${config.listen.host}:${config.listen.port}, ${count(config.users.length, 'user')}, ${count(config.devices.length, 'device')}, ` +
      `state in ${paths.stateDir}, admin socket ${paths.adminSocket}, ` +
      `${hostKey ? `host key ${hostKey.fingerprint}` : `host key ${paths.hostKeyFile} will be generated on the first start`}\n`,
    ExitCode.ok,
  );
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** `fingerprint`: the host key's fingerprint; a missing key is created only with --generate. */
async function fingerprint(configFile: string, generate: boolean): Promise<number> {
  const config = await loadConfigFile(configFile, 'relay');
  const { hostKeyFile } = relayPaths(config, configFile);
  const key = generate ? await loadOrCreateKey(hostKeyFile, RELAY_KEY_COMMENT) : await readKeyFile(hostKeyFile, RELAY_KEY_COMMENT);
  if (!key) {
    throw new LifelineError(
      'KEY_UNREADABLE',
      `${configFile}: hostKeyFile: ${hostKeyFile} does not exist (the relay makes it on its first start; or add --generate)`,
    );
  }
  return print(`${key.fingerprint}\n`, ExitCode.ok);
}

runCli(NAME, () => main(process.argv.slice(2)));
