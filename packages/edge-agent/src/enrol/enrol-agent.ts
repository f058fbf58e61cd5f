import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfigFile, loadOrCreateKey, type Logger } from '@lifeline/shared/core';
import { AgentStatus } from '../agent-status.js';
import { createStatusIndicator } from '../led/create-status-indicator.js';
import { RelayDialer } from '../tunnel/relay-dialer.js';
import { runEnrolFlow, type EnrolOutcome, type EnrolState } from './enrol-flow.js';
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
 * relay (pinned host key from the file) until enrolled or refused, and writes `configFile`. Each
 * state has its log line and is shown on the file's status LED and hook (`status`, as in
 * agent.yaml). Resolves `enrolled` once agent.yaml is written; `refused` on a refusal, after
 * showing it until `signal` aborts (the LED must stay readable for the person on site, and the
 * process would put it out); `stopped` when `signal` aborts first.
 *
 * @throws LifelineError CONFIG_* for a bad enrolment file, KEY_* when the key cannot be made.
 */
export async function enrolAgent(enrolmentFile: string, configFile: string, logger: Logger, signal: AbortSignal): Promise<EnrolOutcome> {
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
  const indicator = await createStatusIndicator(file.status, { deviceId: file.device, logger });
  const status = new AgentStatus(indicator);
  try {
    log.info({ event: 'enrol.start', relay: `${target.host}:${target.port}`, fingerprint: key.fingerprint }, 'enrolling with the relay');
    const outcome = await runEnrolFlow({
      file,
      request: (request) => requestEnrolment(dialer, target, request, 15_000),
      writeAgentConfig: async () => writeEnrolledAgentConfig(configFile, file, keyFile, await enrolledConsolePath(file)),
      onState: (state) => {
        logState(log, state);
        status.enrolment(state);
      },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      backoff: { baseMs: 2_000, capMs: 60_000 },
      signal,
    });
    if (outcome === 'refused') {
      log.info({ event: 'enrol.holding' }, 'showing the refusal on the status LED until stopped; a new enrolment file is needed');
      await untilAborted(signal);
    }
    return outcome;
  } finally {
    await indicator.close();
  }
}

/** Resolves once `signal` aborts, keeping the process alive meanwhile (a signal listener alone does not). */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        resolve();
      },
      { once: true },
    );
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
