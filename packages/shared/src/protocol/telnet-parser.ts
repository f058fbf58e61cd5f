import { DEFAULT_MAX_SUBNEGOTIATION, IAC, TelnetCommand, type NegotiationVerb } from './telnet-constants.js';

/** Something wrong in what the peer sent; the parser recovers and carries on. */
export type TelnetParseProblem =
  /** A subnegotiation outgrew the limit; its payload is dropped up to the next IAC SE. */
  | 'subnegotiation-too-long'
  /** IAC followed by something other than IAC or SE inside a subnegotiation: the SB is dropped. */
  | 'subnegotiation-interrupted'
  /** IAC SE outside a subnegotiation. */
  | 'stray-se';

/** One decoded piece of a Telnet byte stream, in wire order. */
export type TelnetEvent =
  /** Application bytes, IAC IAC already un-doubled. Never empty. */
  | { type: 'data'; data: Buffer }
  /** A two-byte command such as BRK, NOP, AYT (any byte other than SB, SE and the verbs). */
  | { type: 'command'; command: number }
  | { type: 'negotiation'; verb: NegotiationVerb; option: number }
  /** IAC SB <option> <payload> IAC SE, payload un-escaped. */
  | { type: 'subnegotiation'; option: number; payload: Buffer }
  | { type: 'error'; problem: TelnetParseProblem; option?: number };

export interface TelnetParserOptions {
  /** Longest subnegotiation payload kept (bytes); default 4096. */
  maxSubnegotiation?: number;
}

const S_DATA = 0;
const S_IAC = 1;
const S_VERB = 2;
const S_SB_OPTION = 3;
const S_SB_DATA = 4;
const S_SB_IAC = 5;

const verbs: Readonly<Record<number, NegotiationVerb>> = {
  [TelnetCommand.WILL]: 'WILL',
  [TelnetCommand.WONT]: 'WONT',
  [TelnetCommand.DO]: 'DO',
  [TelnetCommand.DONT]: 'DONT',
};

/**
 * Streaming Telnet decoder. Chunks may be split anywhere (between IAC and its command, inside a
 * subnegotiation); state carries over between `feed()` calls. Memory is bounded: a subnegotiation
 * keeps at most `maxSubnegotiation` bytes however long the peer goes on.
 */
export class TelnetParser {
  private readonly maxSb: number;
  private state = S_DATA;
  private verb: NegotiationVerb = 'WILL';
  private sbOption = 0;
  private sbBuf: Buffer | undefined;
  private sbLen = 0;
  private sbOverflow = false;

  constructor(options: TelnetParserOptions = {}) {
    this.maxSb = options.maxSubnegotiation ?? DEFAULT_MAX_SUBNEGOTIATION;
  }

  /** Decodes one chunk; returns what it completed, in order. */
  feed(chunk: Buffer): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    // Fast path for the common case: plain data, nothing to un-escape, no copy.
    if (this.state === S_DATA && chunk.indexOf(IAC) === -1) {
      if (chunk.length > 0) events.push({ type: 'data', data: chunk });
      return events;
    }
    // Data bytes are gathered into one buffer (never longer than the chunk) between events.
    let out: Buffer | undefined;
    let outStart = 0;
    let outEnd = 0;
    const flush = (): void => {
      if (out && outEnd > outStart) {
        events.push({ type: 'data', data: out.subarray(outStart, outEnd) });
        outStart = outEnd;
      }
    };
    const push = (from: number, to: number): void => {
      out ??= Buffer.allocUnsafe(chunk.length);
      chunk.copy(out, outEnd, from, to);
      outEnd += to - from;
    };
    const emit = (event: TelnetEvent): void => {
      flush();
      events.push(event);
    };

    let i = 0;
    while (i < chunk.length) {
      if (this.state === S_DATA) {
        const next = chunk.indexOf(IAC, i);
        const end = next === -1 ? chunk.length : next;
        if (end > i) push(i, end);
        if (next === -1) break;
        this.state = S_IAC;
        i = next + 1;
        continue;
      }
      const byte = chunk[i++] as number;
      switch (this.state) {
        case S_IAC:
          this.state = S_DATA;
          if (byte === IAC) {
            // The second IAC of the pair is the data byte itself.
            push(i - 1, i);
          } else if (byte === TelnetCommand.SB) {
            this.state = S_SB_OPTION;
          } else if (byte === TelnetCommand.SE) {
            emit({ type: 'error', problem: 'stray-se' });
          } else if (verbs[byte] !== undefined) {
            this.verb = verbs[byte];
            this.state = S_VERB;
          } else {
            emit({ type: 'command', command: byte });
          }
          break;
        case S_VERB:
          this.state = S_DATA;
          emit({ type: 'negotiation', verb: this.verb, option: byte });
          break;
        case S_SB_OPTION:
          this.sbOption = byte;
          this.sbLen = 0;
          this.sbOverflow = false;
          this.state = S_SB_DATA;
          break;
        case S_SB_DATA:
          if (byte === IAC) this.state = S_SB_IAC;
          else this.sbAppend(byte, emit);
          break;
        case S_SB_IAC:
          if (byte === IAC) {
            this.state = S_SB_DATA;
            this.sbAppend(byte, emit);
          } else if (byte === TelnetCommand.SE) {
            this.state = S_DATA;
            if (!this.sbOverflow) {
              const payload = Buffer.from((this.sbBuf ?? Buffer.alloc(0)).subarray(0, this.sbLen));
              emit({ type: 'subnegotiation', option: this.sbOption, payload });
            }
          } else {
            // The SB never got its IAC SE. Drop it and read this byte as the command it is,
            // so a peer that lost its place is back in sync at its next command.
            if (!this.sbOverflow) {
              emit({ type: 'error', problem: 'subnegotiation-interrupted', option: this.sbOption });
            }
            this.state = S_IAC;
            i--;
          }
          break;
      }
    }
    flush();
    return events;
  }

  private sbAppend(byte: number, emit: (event: TelnetEvent) => void): void {
    if (this.sbOverflow) return;
    if (this.sbLen >= this.maxSb) {
      this.sbOverflow = true;
      emit({ type: 'error', problem: 'subnegotiation-too-long', option: this.sbOption });
      return;
    }
    this.sbBuf ??= Buffer.allocUnsafe(this.maxSb);
    this.sbBuf[this.sbLen++] = byte;
  }
}
