import { LifelineError } from '@lifeline/shared';

/**
 * What an SSH login name asks for: `USER` (the user's default device), `USER:DEVICE`, or
 * `USER:DEVICE:watch` (read-only on purpose: the session has no input path at all).
 */
export interface LoginName {
  user: string;
  /** Undefined for a plain `USER` login. */
  deviceId: string | undefined;
  watch: boolean;
}

/** The third part of `USER:DEVICE:watch`. */
export const WATCH_SUFFIX = 'watch';

/**
 * Splits an SSH login name. Throws LifelineError AUTH_FAILED (the message is for the log, never
 * for the client) when a part is empty, the third part is not `watch`, or there are more parts.
 */
export function parseLoginName(login: string): LoginName {
  const parts = login.split(':');
  if (parts.length > 3) throw new LifelineError('AUTH_FAILED', 'login name has more than two ":"');
  const [user = '', deviceId, mode] = parts;
  if (user === '') throw new LifelineError('AUTH_FAILED', 'login name has an empty user part');
  if (deviceId === '') throw new LifelineError('AUTH_FAILED', 'login name has an empty device part');
  if (mode !== undefined && mode !== WATCH_SUFFIX) throw new LifelineError('AUTH_FAILED', `login name mode must be "${WATCH_SUFFIX}"`);
  return { user, deviceId, watch: mode === WATCH_SUFFIX };
}
