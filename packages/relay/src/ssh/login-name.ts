import { LifelineError, NAME_MAX_LENGTH, NAME_PATTERN } from '@lifeline/shared/core';
import type { AttachmentKind } from '../session/person.js';

/**
 * What an SSH login name asks for: `USER` (the user's default device), `USER:DEVICE`, or
 * `USER:DEVICE:watch` (read-only on purpose: the session has no input path at all).
 */
export interface LoginName {
  user: string;
  /** Undefined for a plain `USER` login. */
  deviceId: string | undefined;
  /** `observer` for `USER:DEVICE:watch`, else `participant`. */
  attachAs: AttachmentKind;
}

/** The third part of `USER:DEVICE:watch`. */
export const WATCH_SUFFIX = 'watch';

/**
 * Splits an SSH login name. Throws LifelineError AUTH_FAILED (the message is for the log, never
 * for the client) when a part is empty, the third part is not `watch`, there are more parts, or
 * the user or device part is longer or made of other characters than config names allow.
 */
export function parseLoginName(login: string): LoginName {
  const parts = login.split(':');
  if (parts.length > 3) throw new LifelineError('AUTH_FAILED', 'login name has more than two ":"');
  const [user = '', deviceId, mode] = parts;
  if (user === '') throw new LifelineError('AUTH_FAILED', 'login name has an empty user part');
  if (deviceId === '') throw new LifelineError('AUTH_FAILED', 'login name has an empty device part');
  if (mode !== undefined && mode !== WATCH_SUFFIX) throw new LifelineError('AUTH_FAILED', `login name mode must be "${WATCH_SUFFIX}"`);
  // No configured name can match, and what passes goes on into log lines and terminal messages.
  for (const part of deviceId === undefined ? [user] : [user, deviceId]) {
    if (part.length > NAME_MAX_LENGTH || !NAME_PATTERN.test(part))
      throw new LifelineError('AUTH_FAILED', 'login name has a part no user or device name can have');
  }
  return { user, deviceId, attachAs: mode === WATCH_SUFFIX ? 'observer' : 'participant' };
}
