import { parseArgs } from 'node:util';
import {
  ExitCode,
  LIFELINE_VERSION,
  createLogger,
  loadConfigFile,
  loadOrCreateKey,
  print,
  relayConfigSchema,
  resolveFromConfig,
  runCli,
  shutdownSignal,
} from '@lifeline/shared';
import { runHashPassword } from './cli/hash-password-command.js';
import { runRecordings } from './cli/recordings-command.js';
import { runReplay } from './cli/replay-command.js';
import { runDevices } from './cli/devices-command.js';
import { runPower } from './cli/power-command.js';
import { runSessions } from './cli/sessions-command.js';
import { runDemo } from './demo/demo.js';
import { startRelay } from './relay.js';

const usage = `lifeline-relay ${LIFELINE_VERSION}: SSH console relay.

Usage:
  lifeline-relay [run] --config relay.yaml [--pretty]   run the relay
  lifeline-relay hash-password                          read a password (twice on a terminal), print its hash
  lifeline-relay fingerprint --config relay.yaml        print the host key fingerprint (for agent.yaml relay.hostKey)
  lifeline-relay sessions [--config relay.yaml] [--json]   live sessions: device, writer, viewers, since, bytes
  lifeline-relay devices [--config relay.yaml] [--json]    devices: online/offline, since, last health check, agent
  lifeline-relay power DEVICE status|on|off|soft|cycle|reset [--yes]   power through the device's BMC (IPMI)
  lifeline-relay recordings [--config relay.yaml] [--device D] [--user U] [--since DAY] [--until DAY] [--json]
                                                        list session recordings, newest first
  lifeline-relay replay FILE [--speed N] [--dump]       play a recording in the terminal, or print it
  lifeline-relay demo [--port 2222]                     run the embedded demo: relay, agent and a simulated router
  lifeline-relay --version | --help
`;

/** Commands that parse their own flags. */
const subcommands: Record<string, (args: string[], io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }) => Promise<number>> = {
  recordings: runRecordings,
  replay: runReplay,
  sessions: runSessions,
  devices: runDevices,
  power: runPower,
};

async function main(argv: string[]): Promise<number> {
  const sub = argv[0] !== undefined ? subcommands[argv[0]] : undefined;
  if (sub) return sub(argv.slice(1), { stdout: process.stdout, stderr: process.stderr });
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      pretty: { type: 'boolean' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) return print(usage, ExitCode.ok);
  if (values.version) return print(`${LIFELINE_VERSION}\n`, ExitCode.ok);
  const command = positionals[0] ?? 'run';

  switch (command) {
    case 'hash-password':
      return runHashPassword(process.stdin, process.stdout, process.stderr);
    case 'demo':
      return runDemo({ port: values.port ? Number(values.port) : 2222 });
    case 'fingerprint':
    case 'run':
      break;
    default:
      return print(`unknown command "${command}"\n\n${usage}`, ExitCode.badConfig, process.stderr);
  }
  if (!values.config) return print(`--config FILE is required\n\n${usage}`, ExitCode.badConfig, process.stderr);
  const config = await loadConfigFile(values.config, relayConfigSchema);
  if (command === 'fingerprint') {
    const key = await loadOrCreateKey(resolveFromConfig(values.config, config.hostKeyFile), 'lifeline-relay');
    return print(`${key.fingerprint}\n`, ExitCode.ok);
  }

  const logger = createLogger({ svc: 'relay', version: LIFELINE_VERSION, level: config.log.level, pretty: values.pretty ?? config.log.pretty });
  const relay = await startRelay(config, values.config, logger);
  const signal = await shutdownSignal();
  logger.info({ event: 'relay.stop', signal }, 'draining and stopping');
  await relay.stop();
  return ExitCode.ok;
}

runCli('lifeline-relay', () => main(process.argv.slice(2)));
