/**
 * Relay group discovery (docs/protocol.md): once per agent SSH connection, a relay that belongs
 * to a group opens a stream through one of the agent's tunnels with this originator address and
 * keeps it open, writing one line whenever the group's membership changes (the first at once):
 * `LIFELINE-GROUP 1 {"self":"<id>","members":[{"id":"<id>","host":"<host>","port":<port>}, ...]}`.
 * The number after the tag is the message version; an agent ignores versions it does not know
 * (and keeps what it had), so a newer relay can add a version without breaking older agents.
 */
export const GROUP_ORIGIN = 'lifeline-group';

/** The version this code writes and reads. */
export const GROUP_NOTICE_VERSION = 1;

/** A group of 3 to 20 relays fits easily; a line longer than this is not a notice. */
export const MAX_GROUP_LINE = 64 * 1024;

/** More members than this is not a relay group but a mistake (or a relay trying to make agents dial the world). */
export const MAX_GROUP_MEMBERS = 64;

const TAG = 'LIFELINE-GROUP';

/** One relay of the group, as agents should dial it (`group.advertise` in its relay.yaml). */
export interface GroupMember {
  /** Random per relay start; tells members apart in logs. */
  id: string;
  host: string;
  port: number;
}

export interface GroupNotice {
  /** The member that sent the notice. */
  self: string;
  /** Every live member, the sender included. */
  members: GroupMember[];
}

export function encodeGroupNotice(notice: GroupNotice): Buffer {
  const body = { self: notice.self, members: notice.members.map(({ id, host, port }) => ({ id, host, port })) };
  return Buffer.from(`${TAG} ${GROUP_NOTICE_VERSION} ${JSON.stringify(body)}\n`, 'utf8');
}

export type DecodedGroupNotice =
  { kind: 'notice'; notice: GroupNotice } | { kind: 'unknown-version'; version: string } | { kind: 'invalid' };

/** A notice line without its newline: the notice, a version this code does not know, or not a notice at all. */
export function decodeGroupNotice(line: string): DecodedGroupNotice {
  const m = /^LIFELINE-GROUP (\d{1,6}) (.*)$/s.exec(line);
  if (!m) return { kind: 'invalid' };
  if (Number(m[1]) !== GROUP_NOTICE_VERSION) return { kind: 'unknown-version', version: m[1]! };
  let body: unknown;
  try {
    body = JSON.parse(m[2]!);
  } catch {
    return { kind: 'invalid' };
  }
  if (!isRecord(body) || typeof body.self !== 'string' || !Array.isArray(body.members)) return { kind: 'invalid' };
  if (body.members.length > MAX_GROUP_MEMBERS) return { kind: 'invalid' };
  const members: GroupMember[] = [];
  for (const entry of body.members) {
    if (!isRecord(entry)) return { kind: 'invalid' };
    const { id, host, port } = entry;
    if (typeof id !== 'string' || typeof host !== 'string' || !/^[^\s/]{1,253}$/.test(host)) return { kind: 'invalid' };
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return { kind: 'invalid' };
    members.push({ id, host, port });
  }
  return { kind: 'notice', notice: { self: body.self, members } };
}

/**
 * Calls `onLine` for every newline-terminated line of `stream` (without the newline) until it
 * ends; a line longer than `maxBytes` ends the reading (the stream is destroyed).
 */
export function readLines(stream: NodeJS.ReadableStream & { destroy?(): void }, maxBytes: number, onLine: (line: string) => void): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
    if (pending.length > maxBytes) {
      pending = '';
      stream.destroy?.();
    }
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
