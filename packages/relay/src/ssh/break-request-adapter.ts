/**
 * RFC 4335 `break` requests for ssh2's server, which has no event for them.
 *
 * ssh2 1.17's server answers every channel request it does not know with failure, in the
 * CHANNEL_REQUEST message handler it hands its Protocol (lib/server.js, `messageHandlers`). The
 * protocol layer (lib/protocol/handlers.misc.js) still parses unknown request types, passing the
 * raw type-specific bytes as `data`. So, per connection, we wrap that handler: a `break` on a
 * session channel becomes a `'break'` event on ssh2's Session object, with the usual
 * `(accept, reject, info)` shape; everything else goes to ssh2's own handler untouched.
 *
 * This leans on ssh2 internals (`conn._protocol._handlers`, `conn._chanMgr`, Session's
 * `_chanInfo`/`_ending`), hence the exact version pin below and the checks at install time.
 * The OpenSSH `~B` test in break-request-adapter.test.ts is the one that fails the day an ssh2
 * upgrade breaks this; re-read lib/server.js and handlers.misc.js, then move the pin.
 */
import { createRequire } from 'node:module';
import type { Connection, Session } from 'ssh2';

const SUPPORTED_SSH2_VERSION = '1.17.0';

const installedVersion = (createRequire(import.meta.url)('ssh2/package.json') as { version: string }).version;
if (installedVersion !== SUPPORTED_SSH2_VERSION) {
  throw new Error(
    `packages/relay/src/ssh/break-request-adapter.ts relies on ssh2 ${SUPPORTED_SSH2_VERSION} internals, but ssh2 ${installedVersion} is installed. ` +
      'Check the adapter against the new lib/server.js and lib/protocol/handlers.misc.js, run its OpenSSH test, then update the pin.',
  );
}

/** What the client asked for: `break-length` in milliseconds (0: "the server's default", as PuTTY sends). */
export interface BreakInfo {
  lengthMs: number;
}

/**
 * Listener for `'break'` on a Session. As with ssh2's other session events, `accept` and `reject`
 * are undefined when the client did not ask for a reply (OpenSSH and PuTTY never do).
 */
export type BreakListener = (accept: (() => void) | undefined, reject: (() => void) | undefined, info: BreakInfo) => void;

/**
 * Typed `session.on('break', ...)`; the event only comes once the adapter is installed on the
 * session's connection. Throws when `session` is not the ssh2 Session shape the adapter expects.
 */
export function onBreakRequest(session: Session, listener: BreakListener): void {
  if (!isSession(session)) {
    throw new Error('break-request-adapter.ts: ssh2 session objects changed shape (Session, _chanInfo, _ending); the adapter needs rework');
  }
  session.on('break', listener);
}

type ChannelRequestHandler = (proto: unknown, recipient: number, type: string, wantReply: boolean, data: unknown) => void;

interface Ssh2Internals {
  _protocol: {
    _handlers: { CHANNEL_REQUEST: ChannelRequestHandler };
    channelSuccess(chan: number): void;
    channelFailure(chan: number): void;
  };
  _chanMgr: { get(id: number): unknown };
}

/** The parts of ssh2's (unexported) server Session class we touch. */
interface SessionInternals extends NodeJS.EventEmitter {
  _ending: boolean;
  _chanInfo: { outgoing: { id: number; state: string } };
}

const installed = new WeakSet<object>();

/**
 * Makes `break` requests on this server-side connection's session channels emit `'break'`.
 * Call it from the server's `'connection'` listener, before any channel exists. Idempotent.
 * Throws when ssh2's internals are not what this adapter was written against.
 */
export function installBreakRequestAdapter(conn: Connection): void {
  if (installed.has(conn)) return;
  const internals = checkInternals(conn);
  const proto = internals._protocol;
  const original = proto._handlers.CHANNEL_REQUEST;

  proto._handlers.CHANNEL_REQUEST = (p, recipient, type, wantReply, data) => {
    const session = internals._chanMgr.get(recipient);
    if (type !== 'break' || !isSession(session)) {
      original(p, recipient, type, wantReply, data);
      return;
    }
    let replied = false;
    const reply = (success: boolean) => {
      if (replied) return;
      replied = true;
      // No reply on a channel we have closed: nothing may follow our CHANNEL_CLOSE.
      const { id, state } = session._chanInfo.outgoing;
      if (state !== 'open' && state !== 'eof') return;
      if (success) proto.channelSuccess(id);
      else proto.channelFailure(id);
    };
    const accept = wantReply ? () => reply(true) : undefined;
    const reject = wantReply ? () => reply(false) : undefined;

    // Payload: uint32 break-length in ms. ssh2 hands unknown requests' bytes over raw (or null).
    const lengthMs = Buffer.isBuffer(data) && data.length >= 4 ? data.readUInt32BE(0) : undefined;
    // As ssh2 does for its own request types: nothing for a session the client is ending.
    if (lengthMs === undefined || session._ending || session.listenerCount('break') === 0) {
      reject?.();
      return;
    }
    session.emit('break', accept, reject, { lengthMs } satisfies BreakInfo);
  };
  installed.add(conn);
}

function checkInternals(conn: Connection): Ssh2Internals {
  const c = conn as unknown as Partial<Ssh2Internals>;
  const problems: string[] = [];
  if (typeof c._protocol?._handlers?.CHANNEL_REQUEST !== 'function') problems.push('conn._protocol._handlers.CHANNEL_REQUEST');
  if (typeof c._protocol?.channelSuccess !== 'function') problems.push('conn._protocol.channelSuccess');
  if (typeof c._protocol?.channelFailure !== 'function') problems.push('conn._protocol.channelFailure');
  if (typeof c._chanMgr?.get !== 'function') problems.push('conn._chanMgr.get');
  if (problems.length > 0) {
    throw new Error(`break-request-adapter.ts: ssh2 internals changed, missing ${problems.join(', ')}; the adapter needs rework`);
  }
  return c as Ssh2Internals;
}

function isSession(value: unknown): value is SessionInternals {
  if (typeof value !== 'object' || value === null || value.constructor?.name !== 'Session') return false;
  const s = value as Partial<SessionInternals>;
  return typeof s._chanInfo?.outgoing?.id === 'number' && typeof s._ending === 'boolean' && typeof s.emit === 'function';
}
