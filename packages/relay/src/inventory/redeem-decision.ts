import type { AgentState, EnrolledAgent, RedeemRefusal, RedeemRequest, RedeemResult } from './inventory-store.js';

/** A stored token as both stores read it inside the redeeming transaction. */
export interface TokenRow {
  deviceId: string;
  expiresAt: number;
  /** When it was spent; undefined while unused. */
  usedAt: number | undefined;
}

/** What the store must write for a successful redeem, or the refusal. */
export type RedeemDecision =
  | { kind: 'refuse'; reason: RedeemRefusal }
  /** The agent already holds this key (polling while pending, or approved): nothing to write. */
  | { kind: 'unchanged'; result: RedeemResult }
  /** Spend the token and store `agent`. */
  | { kind: 'bind'; agent: EnrolledAgent; result: RedeemResult };

/**
 * The one rule for redeeming, shared by every store (each runs it inside its own transaction,
 * with the token and the device's agent as read there):
 * - a key whose agent on that device was revoked is refused (`revoked`), token or not;
 * - without a token, only the device's own pending or approved key is answered (its state);
 * - a token must exist (`unknown`), be unspent (`used`), unexpired at `now` (`expired`) and made
 *   for that device (`other-device`); then it is spent and the key bound, replacing an earlier agent.
 */
export function decideRedeem(request: RedeemRequest, token: TokenRow | undefined, agent: EnrolledAgent | undefined): RedeemDecision {
  const sameKey = agent !== undefined && agent.publicKey === request.publicKey;
  if (sameKey && agent.state === 'revoked') return { kind: 'refuse', reason: 'revoked' };
  if (request.tokenHash === undefined) {
    if (!sameKey) return { kind: 'refuse', reason: 'unknown' };
    return { kind: 'unchanged', result: { result: agent.state === 'approved' ? 'enrolled' : 'pending', agent } };
  }
  if (token === undefined) return { kind: 'refuse', reason: 'unknown' };
  if (token.usedAt !== undefined) return { kind: 'refuse', reason: 'used' };
  if (token.expiresAt <= request.now) return { kind: 'refuse', reason: 'expired' };
  if (token.deviceId !== request.deviceId) return { kind: 'refuse', reason: 'other-device' };
  const state: AgentState = request.approval === 'auto' ? 'approved' : 'pending';
  const bound: EnrolledAgent = { deviceId: request.deviceId, publicKey: request.publicKey, state, since: request.now, peer: request.peer };
  return { kind: 'bind', agent: bound, result: { result: state === 'approved' ? 'enrolled' : 'pending', agent: bound } };
}

/**
 * The agent after `setAgentState`: approving moves only a pending agent (an approved one stays
 * as it is; a revoked one stays revoked: it must enrol again), revoking applies to any agent.
 */
export function nextAgentState(agent: EnrolledAgent, state: 'approved' | 'revoked', now: number): EnrolledAgent {
  if (state === 'approved' && agent.state !== 'pending') return agent;
  if (state === 'revoked' && agent.state === 'revoked') return agent;
  return { ...agent, state, since: now };
}
