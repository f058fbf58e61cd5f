import { parseEnrolRequest, type EnrolAnswer, type Logger } from '@lifeline/shared/core';
import type { LoginThrottle } from '../ssh/login-throttle.js';
import { hashEnrolmentToken } from './enrolment-token.js';
import type { InventoryStore } from './inventory-store.js';

export interface EnrolmentServiceOptions {
  store: Pick<InventoryStore, 'redeem'>;
  approval: 'auto' | 'manual';
  /** Token guesses count here per source address, like failed passwords (the people's throttle). */
  throttle: LoginThrottle;
  now: () => number;
  /** Audit lines agent.enrolled / agent.enrol-refused go here; the token never does. */
  logger: Logger;
}

/** Who is enrolling: the key it proved it holds at login, and where it comes from. */
export interface Enrollee {
  /** OpenSSH public key line of the agent's new key. */
  publicKey: string;
  fingerprint: string;
  /** Source address (the throttle's key). */
  address: string;
  /** `address:port`, for the audit log. */
  peer: string;
}

/**
 * Answers one enrolment request line (enrolment-wire.ts) from an agent that logged in as
 * `lifeline-enrol` with its new key. A garbled line, an unknown, used, expired or other-device
 * token and a revoked key are refused and count as a failed login for the address; once the
 * address is throttled every request is refused as `unknown` without reaching the store, so
 * tokens cannot be guessed faster than passwords. Throws only what the store throws
 * (INVENTORY_UNAVAILABLE).
 */
export class EnrolmentService {
  constructor(private readonly options: EnrolmentServiceOptions) {}

  /** True once the address has used up its failures: the caller ends the connection. */
  isBlocked(address: string): boolean {
    return this.options.throttle.isBlocked(address);
  }

  async answer(line: string, who: Enrollee): Promise<EnrolAnswer> {
    const { logger, throttle } = this.options;
    const fields = { peer: who.peer, fingerprint: who.fingerprint };
    if (throttle.isBlocked(who.address)) {
      logger.warn({ event: 'agent.enrol-refused', ...fields, reason: 'address-throttled' }, 'enrolment refused: too many failures');
      return { result: 'refused', reason: 'unknown' };
    }
    const request = parseEnrolRequest(line);
    if ('problem' in request) {
      throttle.recordFailure(who.address);
      logger.warn({ event: 'agent.enrol-refused', ...fields, reason: 'bad-request', problem: request.problem }, 'enrolment refused');
      return { result: 'refused', reason: 'unknown' };
    }
    const outcome = await this.options.store.redeem({
      deviceId: request.device,
      tokenHash: request.token === undefined ? undefined : hashEnrolmentToken(request.token),
      publicKey: who.publicKey,
      peer: who.peer,
      now: this.options.now(),
      approval: this.options.approval,
    });
    const audit = { ...fields, deviceId: request.device, withToken: request.token !== undefined };
    if (outcome.result === 'refused') {
      throttle.recordFailure(who.address);
      logger.warn({ event: 'agent.enrol-refused', ...audit, reason: outcome.reason }, `enrolment for ${request.device} refused`);
      return { result: 'refused', reason: outcome.reason };
    }
    // A poll that finds nothing new (still pending, already approved) is not a new enrolment.
    if (request.token !== undefined)
      logger.info({ event: 'agent.enrolled', ...audit, state: outcome.agent.state }, `agent enrolled for ${request.device}`);
    return { result: outcome.result };
  }
}
