import {
  Backoff,
  isLifelineError,
  type EnrolAnswer,
  type EnrolmentFile,
  type EnrolRefusal,
  type EnrolRequest,
} from '@lifeline/shared/core';

/** Where an enrolling agent stands; each has its own log line and LED state. */
export type EnrolState =
  | { state: 'unreachable'; detail: string }
  | { state: 'host-key-mismatch'; detail: string }
  | { state: 'refused'; reason: EnrolRefusal }
  | { state: 'pending' }
  | { state: 'enrolled' };

/** How enrolment ended: agent.yaml written, refused by the relay (a new token is needed), or stopped by `signal`. */
export type EnrolOutcome = 'enrolled' | 'refused' | 'stopped';

export interface EnrolFlowOptions {
  file: EnrolmentFile;
  /** One exchange with the relay (enrol-request.ts over the pinned dialer with the new key). */
  request: (request: EnrolRequest) => Promise<EnrolAnswer>;
  /** Writes agent.yaml (0600, atomically) once enrolled. */
  writeAgentConfig: () => Promise<void>;
  /** Told every state change, for the log line and the LED. */
  onState: (state: EnrolState) => void;
  /** Waits `ms`; may resolve early once `signal` aborts (the flow checks it after every wait). */
  sleep: (ms: number) => Promise<void>;
  /** Retry and poll spacing (agent.yaml's reconnect defaults). */
  backoff: { baseMs: number; capMs: number; random?: () => number };
  signal?: AbortSignal;
}

/**
 * Enrols until the relay says `enrolled` (writes agent.yaml: `enrolled`) or refuses the token
 * (`refused`: a new token is needed; the state stays shown). An unreachable relay and a wrong
 * host key are retried with backoff (someone may fix the network or the file); `pending` is
 * polled with backoff and no token: the key alone asks. Once `signal` aborts, resolves `stopped`
 * at once, without waiting for an exchange in flight (its answer is dropped, nothing is written).
 */
export async function runEnrolFlow(options: EnrolFlowOptions): Promise<EnrolOutcome> {
  const backoff = new Backoff(options.backoff);
  const stopped = abortedPromise(options.signal);
  let token: string | undefined = options.file.token;
  while (!options.signal?.aborted) {
    let answer: EnrolAnswer | 'stopped';
    try {
      answer = await Promise.race([options.request({ device: options.file.device, token }), stopped]);
    } catch (err) {
      if (options.signal?.aborted) break;
      const detail = (err as Error).message;
      options.onState(
        isLifelineError(err, 'TUNNEL_HOSTKEY_MISMATCH') ? { state: 'host-key-mismatch', detail } : { state: 'unreachable', detail },
      );
      await Promise.race([options.sleep(backoff.next()), stopped]);
      continue;
    }
    if (answer === 'stopped') break;
    if (answer.result === 'refused') {
      options.onState({ state: 'refused', reason: answer.reason });
      return 'refused';
    }
    if (answer.result === 'enrolled') {
      await options.writeAgentConfig();
      options.onState({ state: 'enrolled' });
      return 'enrolled';
    }
    // Pending: the key is bound; from now on the key alone asks (the token is spent).
    token = undefined;
    options.onState({ state: 'pending' });
    await Promise.race([options.sleep(backoff.next()), stopped]);
  }
  return 'stopped';
}

/** Resolves 'stopped' once `signal` aborts; never, without one. */
function abortedPromise(signal: AbortSignal | undefined): Promise<'stopped'> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve('stopped');
    signal.addEventListener('abort', () => resolve('stopped'), { once: true });
  });
}
