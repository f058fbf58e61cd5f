import { join } from 'node:path';

/**
 * Where recordings live under `recordingsDir`, by device and UTC day:
 * `<dir>/<deviceId>/<YYYY-MM-DD>/<YYYYMMDDTHHMMSSZ>_<user>_<sessionId first 8>.cast`.
 * Names sort by time within a day and say who and what without opening the file.
 */

export const RECORDING_EXTENSION = '.cast';

/** What a recording's file name says. */
export interface RecordingName {
  startedAt: Date;
  user: string;
  /** First 8 characters of the relay's session id. */
  sessionPrefix: string;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
// The user may contain `_`, the stamp and the session prefix cannot: anchor on both ends.
const FILE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z_(.+)_([A-Za-z0-9-]{1,8})\.cast$/;

/** `YYYY-MM-DD` of the UTC day, the name of a date folder. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** `YYYYMMDDTHHMMSSZ` (UTC, basic ISO 8601), the leading part of a file name. */
export function compactUtc(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Keeps a name segment inside its folder whatever it contains (ids are validated by config, but be safe). */
function segment(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9._@-]/g, '-').replace(/^\.+/, '-');
  return safe === '' ? '-' : safe;
}

/** The folder a device's recordings of one day go to. */
export function recordingDayDir(dir: string, deviceId: string, startedAt: Date): string {
  return join(dir, segment(deviceId), utcDay(startedAt));
}

/** The full path of a session's recording. */
export function recordingPath(dir: string, start: { deviceId: string; user: string; sessionId: string; startedAt: Date }): string {
  const session = start.sessionId.replace(/[^A-Za-z0-9-]/g, '').slice(0, 8) || 'session';
  const name = `${compactUtc(start.startedAt)}_${segment(start.user)}_${session}${RECORDING_EXTENSION}`;
  return join(recordingDayDir(dir, start.deviceId, start.startedAt), name);
}

/** Parses a recording's file name; undefined when it is not one of ours. */
export function parseRecordingName(name: string): RecordingName | undefined {
  const m = FILE.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, user, sessionPrefix] = m as unknown as string[];
  const startedAt = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (Number.isNaN(startedAt.getTime()) || compactUtc(startedAt) !== name.slice(0, 16)) return undefined;
  return { startedAt, user: user!, sessionPrefix: sessionPrefix! };
}

/** Parses a date folder's name (`YYYY-MM-DD`) to the start of that UTC day; undefined otherwise. */
export function parseDayName(name: string): Date | undefined {
  if (!DAY.test(name)) return undefined;
  const date = new Date(`${name}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || utcDay(date) !== name ? undefined : date;
}
