// First: keeps unneeded parts of ssh2 from loading (must run before anything imports ssh2).
import './lean-start.js';
import {
  WELL_KNOWN_ENROLMENT_FILE,
  ExitCode,
  LIFELINE_VERSION,
  LifelineError,
  agentPaths,
  isLifelineError,
  type AgentConfig,
  createLogger,
  exitCodeFor,
  operatorMessage,
  ignoreHangup,
  loadConfigFile,
  loadOrCreateKey,
  parseCommandLine as parseCommandLineOf,
  print,
  readKeyFile,
  runCli,
  shutdownSignal,
  usageError as usageErrorOf,
} from '@lifeline/shared/core';
import { agentKeyComment, preflightAgent } from './agent-preflight.js';
import { enrolAgent, needsEnrolment } from './enrol/enrol-agent.js';
import type { EnrolOutcome } from './enrol/enrol-flow.js';
import { startAgent } from './agent.js';
import { checkRelayHostKey } from './tunnel/check-relay.js';

const NAME = 'lifeline-agent';

const usage = `lifeline-agent ${LIFELINE_VERSION}: edge agent, dials out to a lifeline relay and serves a device console.

Usage:
  lifeline-agent [run] --config agent.yaml [--pretty]   run the agent
  lifeline-agent run --config agent.yaml --enrol FILE   enrol first when agent.yaml is missing (default FILE:
                                                        ${WELL_KNOWN_ENROLMENT_FILE} when it exists), write agent.yaml, then run
  lifeline-agent check --config agent.yaml              check everything a start would (config, key, folder), change nothing
  lifeline-agent check-relay --config agent.yaml        check that the relay presents the host key agent.yaml pins
                                                        (exit 0 it does, 78 it presents another, 69 unreachable)
  lifeline-agent pubkey --config agent.yaml [--generate]
                                                        print the agent's public key, to enrol as the device's agentKey
                                                        on the relay; --generate creates the key if it is missing
  lifeline-agent --version | --help

Exit codes: 0 ok, 1 crash, 64 bad command line, 69 Node.js too old,
73 cannot create a folder or file, 78 bad config.
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  if (values.help) return print(usage, ExitCode.ok);
  if (values.version) return print(`${LIFELINE_VERSION}\n`, ExitCode.ok);
  const command = positionals[0] ?? 'run';
  if (command !== 'run' && command !== 'pubkey' && command !== 'check' && command !== 'check-relay')
    throw usageError(`unknown command "${command}"`);
  if (positionals.length > 1) throw usageError(`unexpected argument "${positionals[1]}"`);
  if (!values.config) throw usageError(`${command} needs --config FILE`);
  if (command === 'pubkey') return pubkey(values.config, values.generate === true);
  if (command === 'check') return check(values.config);
  if (command === 'check-relay') return checkRelay(await loadConfigFile(values.config, 'agent'));

  const enrolment = await enrolIfNeeded(values.config, values.enrol, values.pretty);
  // Stopped while enrolling (SIGTERM from systemd, Ctrl-C): a clean stop. A refused token needs a
  // new enrolment file from the operator: 78, so systemd does not restart in a loop.
  if (enrolment === 'stopped') return ExitCode.ok;
  if (enrolment === 'refused') return ExitCode.badConfig;
  const plan = await preflightAgent(values.config);
  const logger = createLogger({
    svc: 'agent',
    version: LIFELINE_VERSION,
    level: plan.config.log.level,
    pretty: values.pretty ?? plan.config.log.pretty,
  });
  // Before starting: a reload during a slow start must not end the process either.
  ignoreHangup(logger);
  const agent = await startAgent(plan.config, values.config, logger, {}, plan.key);
  const signal = await shutdownSignal();
  logger.info({ event: 'agent.stop', signal }, 'stopping');
  await agent.stop();
  return ExitCode.ok;
}

const parseCommandLine = (argv: string[]) =>
  parseCommandLineOf(NAME, argv, {
    config: { type: 'string', short: 'c' },
    enrol: { type: 'string' },
    pretty: { type: 'boolean' },
    generate: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  });

const usageError = (problem: string) => usageErrorOf(NAME, problem);

/** `check`: the preflight of a start, nothing created; exit 0 with a summary or 78 with every problem. */
async function check(configFile: string): Promise<number> {
  let plan;
  try {
    plan = await preflightAgent(configFile);
  } catch (err) {
    if (exitCodeFor(err) === undefined) throw err;
    return print(`${operatorMessage(NAME, (err as Error).message)}\n`, ExitCode.badConfig, process.stderr);
  }
  const { config, paths, key } = plan;
  return print(
    `ok: ${configFile}: relay ${config.relay.host}:${config.relay.port}, devices ${paths.consoles.map((c) => `${c.deviceId} (${c.console.type})`).join(', ')}, ` +
      `state in ${paths.stateDir}, ${key ? `key ${key.fingerprint}` : `key ${paths.keyFile} will be generated on the first start`}\n`,
    ExitCode.ok,
  );
}

/** `pubkey`: the agent's public key line; a missing key is created only with --generate. */
async function pubkey(configFile: string, generate: boolean): Promise<number> {
  const paths = agentPaths(await loadConfigFile(configFile, 'agent'), configFile);
  const comment = agentKeyComment(paths);
  const key = generate ? await loadOrCreateKey(paths.keyFile, comment) : await readKeyFile(paths.keyFile, comment);
  if (!key)
    throw new LifelineError(
      'KEY_UNREADABLE',
      `${configFile}: keyFile: ${paths.keyFile} does not exist (the agent makes it on its first start; or add --generate)`,
    );
  return print(`${key.publicKeyLine}\n`, ExitCode.ok);
}

/** `check-relay`: what the relay presents against what agent.yaml pins; the Pi installer runs this. */
async function checkRelay(config: AgentConfig): Promise<number> {
  const { host, port, hostKey } = config.relay;
  try {
    const { relay, fingerprint } = await checkRelayHostKey({ host, port, hostKey, timeoutMs: config.reconnect.connectTimeoutMs });
    return print(`relay ${relay} presents ${fingerprint}, as agent.yaml pins\n`, ExitCode.ok);
  } catch (err) {
    if (isLifelineError(err, 'TUNNEL_HOSTKEY_MISMATCH')) return print(`${err.message}\n`, ExitCode.badConfig, process.stderr);
    if (isLifelineError(err, 'TUNNEL_CONNECT_FAILED')) return print(`${err.message}\n`, ExitCode.unavailable, process.stderr);
    throw err;
  }
}

/**
 * Zero-touch enrolment: with no agent.yaml and an enrolment file (--enrol, or the well-known one
 * on the boot partition), enrol and write agent.yaml. SIGINT or SIGTERM meanwhile stops it
 * (`stopped`); `refused` when the relay refused this Pi (shown until such a signal).
 */
async function enrolIfNeeded(configFile: string, enrolFile: string | undefined, pretty: boolean | undefined): Promise<EnrolOutcome> {
  if (!(await needsEnrolment(configFile))) return 'enrolled';
  const file = enrolFile ?? WELL_KNOWN_ENROLMENT_FILE;
  if (enrolFile === undefined && (await needsEnrolment(file))) return 'enrolled'; // neither: preflight reports the missing agent.yaml
  const logger = createLogger({ svc: 'agent', version: LIFELINE_VERSION, level: 'info', pretty: pretty ?? false });
  const stop = new AbortController();
  const onSignal = (signal: string) => {
    logger.info({ event: 'agent.stop', signal }, 'stopping');
    stop.abort();
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    return await enrolAgent(file, configFile, logger, stop.signal);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

runCli(NAME, () => main(process.argv.slice(2)));
