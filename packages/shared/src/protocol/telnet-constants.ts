/**
 * Telnet wire constants (RFC 854, 855, 856, 858, 2217) and lifeline's one private option.
 * Numbers only: the parser, encoder and endpoint give them meaning.
 */

/** Telnet command bytes; each follows an IAC on the wire. */
export const TelnetCommand = {
  /** End of subnegotiation. */
  SE: 240,
  NOP: 241,
  /** Data Mark (Synch). */
  DM: 242,
  /** BREAK: a pulse on the line, length up to the server. */
  BRK: 243,
  IP: 244,
  AO: 245,
  AYT: 246,
  EC: 247,
  EL: 248,
  GA: 249,
  /** Start of subnegotiation: IAC SB <option> <payload> IAC SE. */
  SB: 250,
  WILL: 251,
  WONT: 252,
  DO: 253,
  DONT: 254,
  /** Interpret As Command; doubled (IAC IAC) it is the data byte 0xFF. */
  IAC: 255,
} as const;

export const IAC = TelnetCommand.IAC;

/** The four option negotiation verbs. */
export type NegotiationVerb = 'WILL' | 'WONT' | 'DO' | 'DONT';

export const verbCode: Readonly<Record<NegotiationVerb, number>> = {
  WILL: TelnetCommand.WILL,
  WONT: TelnetCommand.WONT,
  DO: TelnetCommand.DO,
  DONT: TelnetCommand.DONT,
};

/** Option codes lifeline negotiates; every other option is refused. */
export const TelnetOption = {
  /** RFC 856: 8-bit transparent data. */
  BINARY: 0,
  /** RFC 857: refused; the device itself echoes. */
  ECHO: 1,
  /** RFC 858: no Go-Ahead; a full-duplex line. */
  SGA: 3,
  /** RFC 2217: Com Port Control (BREAK, line settings). */
  COM_PORT_OPTION: 44,
  /**
   * lifeline private: the agent (server) tells the relay (client) whether the console behind the
   * stream is up, as UTF-8 JSON in a subnegotiation. 200 is unassigned in the IANA Telnet options
   * registry; peers that do not know it refuse it, as RFC 855 requires, and nothing is sent.
   */
  LIFELINE_STATUS: 200,
  /**
   * lifeline private: the relay (client) tells the agent (server) the fencing token of the relay
   * group's writer lease it holds for the device; the agent answers input it refuses from a relay
   * whose token is not the largest (docs/protocol.md "LIFELINE-WRITER"). 201 is unassigned too;
   * an agent that does not know it refuses it, and ignores the subnegotiations.
   */
  LIFELINE_WRITER: 201,
} as const;

/** Longest subnegotiation payload the parser keeps; longer ones are dropped and reported. */
export const DEFAULT_MAX_SUBNEGOTIATION = 4096;
