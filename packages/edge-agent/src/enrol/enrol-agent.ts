import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfigFile, loadOrCreateKey, type Logger } from '@lifeline/shared';
import { RelayDialer } from '../tunnel/relay-dialer.js';
import { runEnrolFlow, type EnrolState } from './enrol-flow.js';
import { requestEnrolment } from './enrol-request.js';
import { enrolledConsolePath, writeEnrolledAgentConfig } from './enrolled-agent-config.js';

/** The agent's own key made at enrolment, next to agent.yaml. */
export const ENROLLED_KEY_FILE = 'agent_ed25519';

/** True when agent.yaml is missing: the agent has no enrolled identity yet. */
export async function needsEnrolment(configFile: string): Promise<boolean> {
  return access(configFile).then(
    () => false,
    () => true,
  );
}

/**
 * Enrols this Pi from `enrolmentFile`: makes its Ed25519 key (0600) beside `configFile`, asks the
 * relay (pinned host key from the file) until enrolled or refused, and writes `configFile`.
 * Resolves true once agent.yaml is written; false on a refusal (the log line says which).
 */
export async function enrolAgent(enrolmentFile: string, configFile: string, logger: Logger, signal?: AbortSignal): Promise<boolean> {
  const file = await loadConfigFile(enrolmentFile, 'enrolment');
  const keyFile = join(dirname(configFile), ENROLLED_KEY_FILE);
  const key = await loadOrCreateKey(keyFile, `lifeline-agent ${file.device}`);
  const log = logger.child({ component: 'enrolment', deviceId: file.device });
  const target = { host: file.relay.host, port: file.relay.port };
  const dialer = new RelayDialer({
    relay: { ...target, hostKey: file.relay.hostKey, alternates: [] },
    privateKey: key.privateKey,
    username: 'lifeline-enrol',
    connectTimeoutMs: 15_000,
    keepalive: { intervalMs: 6_000, countMax: 2 },
    logger: log,
  });
  log.info({ event: 'enrol.start', relay: `${target.host}:${target.port}`, fingerprint: key.fingerprint }, 'enrolling with the relay');
  return runEnrolFlow({
    file,
    request: (request) => requestEnrolment(dialer, target, request, 15_000),
    writeAgentConfig: async () => writeEnrolledAgentConfig(configFile, file, keyFile, await enrolledConsolePath(file)),
    onState: (state) => logState(log, state),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    backoff: { baseMs: 2_000, capMs: 60_000 },
    ...(signal ? { signal } : {}),
  });
}

/** One distinct log line per state: what a person on site or a support engineer reads. */
function logState(log: Logger, s: EnrolState): void {
  switch (s.state) {
    case 'unreachable':
      return log.warn({ event: 'enrol.relay-unreachable', detail: s.detail }, `cannot reach the relay: ${s.detail}; retrying`);
    case 'host-key-mismatch':
      return log.error(
        { event: 'enrol.host-key-mismatch', detail: s.detail },
        `the relay's host key is not the one in the enrolment file (${s.detail}); not sending the token`,
      );
    case 'refused':
      return log.error(
        { event: 'enrol.refused', reason: s.reason },
        `the relay refused this Pi's enrolment token: ${REFUSAL_TEXT[s.reason]}`,
      );
    case 'pending':
      return log.info({ event: 'enrol.pending' }, 'enrolled, waiting for approval on the relay (lifeline-relay approve DEVICE)');
    case 'enrolled':
      return log.info({ event: 'enrol.done' }, 'enrolled; agent.yaml written');
  }
}

const REFUSAL_TEXT = {
  unknown: 'the relay does not know this token (mistyped file, or too many tries from this address)',
  expired: 'the token has expired; make a new enrolment file with lifeline-relay enrol',
  used: 'the token was already used; make a new enrolment file with lifeline-relay enrol',
  'other-device': 'the token was made for another device',
  revoked: "this Pi's key was revoked; enrol it again with a new token",
} as const;
