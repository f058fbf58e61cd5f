import { LifelineError } from '@lifeline/shared';

/** What an SSH login name asks for: `USER` (the user's default device) or `USER:DEVICE`. */
export interface LoginName {
  user: string;
  /** Undefined for a plain `USER` login. */
  deviceId: string | undefined;
}

/**
 * Splits an SSH login name. Throws LifelineError AUTH_FAILED (the message is for the log, never
 * for the client) when a part is empty or there is more than one colon.
 */
export function parseLoginName(login: string): LoginName {
  const parts = login.split(':');
  if (parts.length > 2) throw new LifelineError('AUTH_FAILED', 'login name has more than one ":"');
  const [user = '', deviceId] = parts;
  if (user === '') throw new LifelineError('AUTH_FAILED', 'login name has an empty user part');
  if (deviceId === '') throw new LifelineError('AUTH_FAILED', 'login name has an empty device part');
  return { user, deviceId };
}
