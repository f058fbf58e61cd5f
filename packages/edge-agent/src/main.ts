import { parseArgs } from 'node:util';
import {
  ExitCode,
  LIFELINE_VERSION,
  agentConfigSchema,
  agentConsoles,
  isLifelineError,
  type AgentConfig,
  createLogger,
  loadConfigFile,
  loadOrCreateKey,
  print,
  resolveFromConfig,
  runCli,
  shutdownSignal,
} from '@lifeline/shared';
import { startAgent } from './agent.js';
import { checkRelayHostKey } from './tunnel/check-relay.js';

const usage = `lifeline-agent ${LIFELINE_VERSION}: edge agent, dials out to a lifeline relay and serves a device console.

Usage:
  lifeline-agent [run] --config agent.yaml [--pretty]   run the agent
  lifeline-agent pubkey --config agent.yaml             print the agent's public key (creates the key if missing),
                                                        to enrol as the device's agentKey on the relay
  lifeline-agent check-relay --config agent.yaml        check that the relay presents the host key agent.yaml pins
                                                        (exit 0 it does, 78 it presents another, 69 unreachable)
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
  if (command !== 'run' && command !== 'pubkey' && command !== 'check-relay') return print(`unknown command "${command}"\n\n${usage}`, ExitCode.badConfig, process.stderr);
  if (!values.config) return print(`--config FILE is required\n\n${usage}`, ExitCode.badConfig, process.stderr);

  const config = await loadConfigFile(values.config, agentConfigSchema);
  if (command === 'pubkey') {
    const key = await loadOrCreateKey(resolveFromConfig(values.config, config.keyFile), `lifeline-agent@${agentConsoles(config)[0]!.deviceId}`);
    return print(`${key.publicKeyLine}\n`, ExitCode.ok);
  }

  if (command === 'check-relay') return checkRelay(config);

  const logger = createLogger({ svc: 'agent', version: LIFELINE_VERSION, level: config.log.level, pretty: values.pretty ?? config.log.pretty });
  const agent = await startAgent(config, values.config, logger);
  const signal = await shutdownSignal();
  logger.info({ event: 'agent.stop', signal }, 'stopping');
  await agent.stop();
  return ExitCode.ok;
}

/** Prints what the relay presents against what agent.yaml pins; the Pi installer runs this. */
async function checkRelay(config: AgentConfig): Promise<number> {
  const { host, port, hostKey } = config.relay;
  try {
    const { relay, fingerprint } = await checkRelayHostKey({ host, port, hostKey, timeoutMs: config.reconnect.connectTimeoutMs });
    return print(`relay ${relay} presents ${fingerprint}, as agent.yaml pins\n`, ExitCode.ok);
  } catch (err) {
    if (isLifelineError(err, 'TUNNEL_HOSTKEY_MISMATCH')) return print(`${err.message}\n`, ExitCode.badConfig, process.stderr);
    if (isLifelineError(err, 'TUNNEL_CONNECT_FAILED')) return print(`${err.message}\n`, 69 /* EX_UNAVAILABLE; ExitCode.unavailable once the startup branch lands */, process.stderr);
    throw err;
  }
}

runCli('lifeline-agent', () => main(process.argv.slice(2)));
