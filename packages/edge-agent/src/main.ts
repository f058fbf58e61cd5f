import { parseArgs } from 'node:util';
import {
  ExitCode,
  LIFELINE_VERSION,
  agentConfigSchema,
  agentConsoles,
  createLogger,
  loadConfigFile,
  loadOrCreateKey,
  print,
  resolveFromConfig,
  runCli,
  shutdownSignal,
} from '@lifeline/shared';
import { startAgent } from './agent.js';

const usage = `lifeline-agent ${LIFELINE_VERSION}: edge agent, dials out to a lifeline relay and serves a device console.

Usage:
  lifeline-agent [run] --config agent.yaml [--pretty]   run the agent
  lifeline-agent pubkey --config agent.yaml             print the agent's public key (creates the key if missing),
                                                        to enrol as the device's agentKey on the relay
  lifeline-agent --version | --help
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      pretty: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) return print(usage, ExitCode.ok);
  if (values.version) return print(`${LIFELINE_VERSION}\n`, ExitCode.ok);
  const command = positionals[0] ?? 'run';
  if (command !== 'run' && command !== 'pubkey') return print(`unknown command "${command}"\n\n${usage}`, ExitCode.badConfig, process.stderr);
  if (!values.config) return print(`--config FILE is required\n\n${usage}`, ExitCode.badConfig, process.stderr);

  const config = await loadConfigFile(values.config, agentConfigSchema);
  if (command === 'pubkey') {
    const key = await loadOrCreateKey(resolveFromConfig(values.config, config.keyFile), `lifeline-agent@${agentConsoles(config)[0]!.deviceId}`);
    return print(`${key.publicKeyLine}\n`, ExitCode.ok);
  }

  const logger = createLogger({ svc: 'agent', version: LIFELINE_VERSION, level: config.log.level, pretty: values.pretty ?? config.log.pretty });
  const agent = await startAgent(config, values.config, logger);
  const signal = await shutdownSignal();
  logger.info({ event: 'agent.stop', signal }, 'stopping');
  await agent.stop();
  return ExitCode.ok;
}

runCli('lifeline-agent', () => main(process.argv.slice(2)));
