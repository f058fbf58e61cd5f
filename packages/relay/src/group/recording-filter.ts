import type { GroupRecordingFilter } from './recording-index.js';

/**
 * The filter of an admin `recordings` request (`deviceId`, `user`, `since`, `until` as ISO
 * times; the CLI's `--since`/`--until` days already turned into instants). Throws for a value
 * of the wrong kind: the admin socket answers with the message.
 */
export function recordingFilter(request: Record<string, unknown>): GroupRecordingFilter {
  const filter: GroupRecordingFilter = {};
  const text = (key: string): string | undefined => {
    const value = request[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value === '') throw new Error(`recordings: ${key} must be text`);
    return value;
  };
  const time = (key: string): Date | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new Error(`recordings: ${key} must be an ISO 8601 time`);
    return date;
  };
  const deviceId = text('deviceId');
  const user = text('user');
  const since = time('since');
  const untilExclusive = time('until');
  if (deviceId !== undefined) filter.deviceId = deviceId;
  if (user !== undefined) filter.user = user;
  if (since !== undefined) filter.since = since;
  if (untilExclusive !== undefined) filter.untilExclusive = untilExclusive;
  return filter;
}
