/**
 * Refusing a channel open with a reason the client shows, before ssh2 allocates anything for it.
 *
 * ssh2 1.17's server offers only `reject()` on a channel open, which answers CONNECT_FAILED or
 * RESOURCE_SHORTAGE with an empty description, after it has reserved a channel number. OpenSSH
 * prints the description ("channel 3: open failed: administratively prohibited: <text>"), so a
 * refusal can say why. As break-request-adapter.ts does for channel requests, we wrap the
 * CHANNEL_OPEN handler ssh2 hands its Protocol (lib/server.js, `messageHandlers`); an open the
 * gate lets through goes to ssh2's own handler untouched. The ssh2 version these internals were
 * read from is pinned by break-request-adapter.ts, which every connection loads first.
 */
import type { Connection } from 'ssh2';

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254 section 5.1). */
const ADMINISTRATIVELY_PROHIBITED = 1;

/** What the client asked to open, as ssh2's protocol layer parsed it. */
interface ChannelOpenInfo {
  type: string;
  sender: number;
}

type ChannelOpenHandler = (proto: unknown, info: ChannelOpenInfo) => void;

interface Ssh2Internals {
  _protocol: {
    _handlers: { CHANNEL_OPEN: ChannelOpenHandler };
    channelOpenFail(recipient: number, reason: number, description: string): void;
  };
}

/**
 * Decides a channel open of `type` (`session`, `direct-tcpip`, ...): undefined lets it through to
 * ssh2, a string refuses it with that text as the description the client shows.
 */
export type ChannelOpenDecision = (type: string) => string | undefined;

/**
 * Puts `decide` in front of every channel this connection's client opens. Call it before the
 * client can open one (at the latest just before authentication succeeds). Throws when ssh2's
 * internals are not what this was written against.
 */
export function gateChannelOpens(conn: Connection, decide: ChannelOpenDecision): void {
  const c = conn as unknown as Partial<Ssh2Internals>;
  const proto = c._protocol;
  if (typeof proto?._handlers?.CHANNEL_OPEN !== 'function' || typeof proto.channelOpenFail !== 'function') {
    throw new Error(
      'channel-open-gate.ts: ssh2 internals changed (conn._protocol._handlers.CHANNEL_OPEN, channelOpenFail); the gate needs rework',
    );
  }
  const original = proto._handlers.CHANNEL_OPEN;
  proto._handlers.CHANNEL_OPEN = (p, info) => {
    const refusal = decide(info.type);
    if (refusal === undefined) original(p, info);
    else proto.channelOpenFail(info.sender, ADMINISTRATIVELY_PROHIBITED, refusal);
  };
}
