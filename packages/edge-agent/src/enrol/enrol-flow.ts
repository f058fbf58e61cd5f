import { Backoff, isLifelineError, type EnrolAnswer, type EnrolmentFile, type EnrolRefusal, type EnrolRequest } from '@lifeline/shared';

/** Where an enrolling agent stands; each has its own log line and LED state. */
export type EnrolState =
  | { state: 'unreachable'; detail: string }
  | { state: 'host-key-mismatch'; detail: string }
  | { state: 'refused'; reason: EnrolRefusal }
  | { state: 'pending' }
  | { state: 'enrolled' };

export interface EnrolFlowOptions {
  file: EnrolmentFile;
  /** One exchange with the relay (enrol-request.ts over the pinned dialer with the new key). */
  request: (request: EnrolRequest) => Promise<EnrolAnswer>;
  /** Writes agent.yaml (0600, atomically) once enrolled. */
  writeAgentConfig: () => Promise<void>;
  /** Told every state change, for the log line and the LED. */
  onState: (state: EnrolState) => void;
  sleep: (ms: number) => Promise<void>;
  /** Retry and poll spacing (agent.yaml's reconnect defaults). */
  backoff: { baseMs: number; capMs: number; random?: () => number };
  signal?: AbortSignal;
}

/**
 * Enrols until the relay says `enrolled` (writes agent.yaml, resolves true) or refuses the token
 * (resolves false: a new token is needed; the state stays shown). An unreachable relay and a
 * wrong host key are retried with backoff (someone may fix the network or the file); `pending`
 * is polled with backoff and no token: the key alone asks. Resolves false if `signal` aborts.
 */
export async function runEnrolFlow(options: EnrolFlowOptions): Promise<boolean> {
  const backoff = new Backoff(options.backoff);
  let token: string | undefined = options.file.token;
  while (!options.signal?.aborted) {
    let answer: EnrolAnswer;
    try {
      answer = await options.request({ device: options.file.device, token });
    } catch (err) {
      const detail = (err as Error).message;
      options.onState(
        isLifelineError(err, 'TUNNEL_HOSTKEY_MISMATCH') ? { state: 'host-key-mismatch', detail } : { state: 'unreachable', detail },
      );
      await options.sleep(backoff.next());
      continue;
    }
    if (answer.result === 'refused') {
      options.onState({ state: 'refused', reason: answer.reason });
      return false;
    }
    if (answer.result === 'enrolled') {
      await options.writeAgentConfig();
      options.onState({ state: 'enrolled' });
      return true;
    }
    // Pending: the key is bound; from now on the key alone asks (the token is spent).
    token = undefined;
    options.onState({ state: 'pending' });
    await options.sleep(backoff.next());
  }
  return false;
}
