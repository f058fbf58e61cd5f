import { LifelineError, type PowerAction } from '@lifeline/shared/core';
import type { Role } from './person.js';

/** Whether a person may do something now, and if not, a line that says why. */
export type Verdict = { allowed: true } | { allowed: false; why: string; code: 'SESSION_NOT_PERMITTED' | 'POWER_UNSUPPORTED' };

/**
 * What one person may do at one console right now. The hub's action handlers refuse with these
 * verdicts' reasons, and the SSH side builds the escape help and the power menu from the same
 * object, so a menu can never offer what its handler would refuse.
 */
export interface ConsoleRights {
  /** Send BREAK: the person with read-write only. */
  readonly sendBreak: Verdict;
  /** Take read-write: when free, or from someone else for supervisors and admins; never for `:watch`. */
  readonly takeOver: Verdict;
  /** Ask the BMC for the power state: anyone attached, on a console with a BMC. */
  readonly powerStatus: Verdict;
  /** Power on, off, soft, cycle, reset: supervisors and admins on a console with a BMC, never `:watch`. */
  readonly powerChange: Verdict;
}

/**
 * What the rules are decided from, besides the kind of attachment (which picks the rule set:
 * participantRights or observerRights).
 */
export interface ConsoleRuleFacts {
  role: Role;
  isWriter: boolean;
  /** Who has read-write, if anyone. */
  writer: string | undefined;
  /**
   * Whether the device has power control: false when its agent says there is no BMC, or the
   * relay has no power path; undefined when the agent does not say (older agents): offered, and
   * the agent answers `unsupported` if there is none.
   */
  power: boolean | undefined;
}

const ALLOWED: Verdict = { allowed: true };
const deny = (why: string, code: 'SESSION_NOT_PERMITTED' | 'POWER_UNSUPPORTED' = 'SESSION_NOT_PERMITTED'): Verdict => ({
  allowed: false,
  why,
  code,
});
const mayTakeOverFromOthers = (role: Role) => role === 'supervisor' || role === 'admin';

const noBmc = (facts: ConsoleRuleFacts): Verdict | undefined =>
  facts.power === false ? deny('not available, this console has no BMC', 'POWER_UNSUPPORTED') : undefined;

/** The rights of a ParticipantAttachment: read-write or read-only by the writer rules and the role. */
export function participantRights(facts: ConsoleRuleFacts): ConsoleRights {
  const { role, isWriter, writer } = facts;
  const readOnly = `you are read-only (${writer ? `${writer} has read-write` : 'nobody has read-write'})`;
  const bmc = noBmc(facts);
  return {
    sendBreak: isWriter ? ALLOWED : deny(readOnly),
    takeOver: isWriter
      ? deny('you already have read-write.')
      : writer && !mayTakeOverFromOthers(role)
        ? deny(`${writer} has read-write; taking it over needs the supervisor or admin role.`)
        : ALLOWED,
    powerStatus: bmc ?? ALLOWED,
    powerChange: bmc ?? (role === 'engineer' ? deny('on/off/cycle need the supervisor role.') : ALLOWED),
  };
}

/**
 * The rights of an ObserverAttachment (`USER:DEVICE:watch`): power status where there is a BMC,
 * nothing else, whatever the role. The attachment has no way to do the rest anyway; these verdicts
 * are the reasons its front shows.
 */
export function observerRights(facts: ConsoleRuleFacts): ConsoleRights {
  const bmc = noBmc(facts);
  return {
    sendBreak: deny('you joined to watch (:watch)'),
    takeOver: deny('you joined to watch (:watch); log in without it to take read-write.'),
    powerStatus: bmc ?? ALLOWED,
    powerChange: bmc ?? deny('on/off/cycle are not for a :watch session; log in without :watch.'),
  };
}

/** The verdict for one power action. */
export function powerVerdict(rights: ConsoleRights, action: PowerAction): Verdict {
  return action === 'status' ? rights.powerStatus : rights.powerChange;
}

/** Throws LifelineError with the verdict's code and reason when it does not allow. */
export function enforce(verdict: Verdict): void {
  if (!verdict.allowed) throw new LifelineError(verdict.code, verdict.why);
}
