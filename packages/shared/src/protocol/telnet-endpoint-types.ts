import type { Logger } from '../log/logger.js';
import type { ConsoleStatus } from './console-status.js';
import type { OptionChange } from './option-negotiator.js';
import type { ComPortMessage } from './rfc2217.js';
import type { WriterRefusal } from './writer-token.js';

/** The relay is the Telnet client of a tunnel stream; the agent (like ser2net) the server. */
export type TelnetRole = 'client' | 'server';

export type BreakAction = 'on' | 'off' | 'pulse';

/** A COM-PORT-OPTION command as a client sends it. */
export type ComPortRequest = Omit<ComPortMessage, 'fromServer'>;

export interface TelnetEndpointOptions {
  role: TelnetRole;
  /**
   * RFC 2217. A client offers it (WILL COM-PORT-OPTION); a server accepts it (DO) and answers
   * every command with its +100 reply.
   */
  comPort?: boolean;
  logger?: Logger;
  /**
   * LIFELINE-WRITER (the relay group's writer fence). A client offers it (WILL 201): the relay's
   * console streams; a server always accepts it. Off for the agent's own Telnet client to a
   * terminal server, which has no use for it.
   */
  writerFence?: boolean;
  /** Longest subnegotiation accepted from the peer (bytes); default 4096. */
  maxSubnegotiation?: number;
}

/** Events of a TelnetEndpoint. Listen for `error` as on any stream. */
export interface TelnetEndpointEvents {
  /**
   * Application bytes from the peer, unescaped. Bytes that arrive while nobody listens are kept
   * (and the stream paused) until the first listener is added, so none are lost to a late one.
   */
  data: [data: Buffer];
  /** The stream took the bytes a `write()` returned false for. */
  drain: [];
  /** Server side: SET-CONTROL BREAK ON/OFF (`on`/`off`) or IAC BRK (`pulse`). */
  break: [action: BreakAction];
  /** Any other RFC 2217 message (commands on the server, replies/notifications on the client). */
  comPort: [message: ComPortMessage];
  /** Client side: the console status the server reported (LIFELINE-STATUS); the latest is kept for a late listener. */
  status: [status: ConsoleStatus];
  /**
   * Server side: the relay holds the group's writer lease with this fencing token (LIFELINE-WRITER);
   * emitted in its place among the `data` events.
   */
  writerClaim: [token: bigint];
  /** Client side: the agent refused what this stream sent, by its writer fence. */
  writerRefusal: [refusal: WriterRefusal];
  /** An option settled on or off. */
  option: [change: OptionChange];
  end: [];
  close: [];
  error: [err: Error];
  /** Node's own EventEmitter event, declared so the endpoint can see late listeners arrive. */
  newListener: [eventName: string | symbol, listener: unknown];
}
