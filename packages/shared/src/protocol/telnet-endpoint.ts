import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { silentLogger, type Logger } from '../log/logger.js';
import { ComPortResponder } from './com-port-responder.js';
import { decodeConsoleStatus, encodeConsoleStatus, type ConsoleStatus } from './console-status.js';
import { decodeWriterClaim, decodeWriterRefusal, encodeWriterClaim, encodeWriterRefusal, type WriterRefusal } from './writer-token.js';
import { OptionNegotiator, type OptionChange, type OptionSide } from './option-negotiator.js';
import { decodeComPort, encodeComPort, SetControl, type ComPortMessage } from './rfc2217.js';
import type { BreakAction, ComPortRequest, TelnetEndpointEvents, TelnetEndpointOptions, TelnetRole } from './telnet-endpoint-types.js';
import { TelnetCommand, TelnetOption, type NegotiationVerb } from './telnet-constants.js';
import { encodeCommand, encodeNegotiation, encodeSubnegotiation, escapeIac } from './telnet-encoder.js';
import { TelnetParser, type TelnetEvent } from './telnet-parser.js';

/** Replies are dropped beyond this much unsent output: a flooding peer that never reads must not grow memory. */
const MAX_PENDING_REPLIES_BYTES = 1024 * 1024;
/** COM-PORT commands kept while RFC 2217 is still being negotiated. */
const MAX_QUEUED_COM_PORT = 32;

/**
 * One end of a Telnet connection in binary mode over a byte stream (an ssh2 channel or a socket):
 * 8-bit transparent data both ways from the first byte, option negotiation by RFC 1143, RFC 2217
 * BREAK and line settings, and lifeline's LIFELINE-STATUS option. It never waits for a reply to
 * send data or a BREAK.
 */
export class TelnetEndpoint extends EventEmitter<TelnetEndpointEvents> {
  readonly role: TelnetRole;
  private readonly log: Logger;
  private readonly parser: TelnetParser;
  private readonly negotiator: OptionNegotiator;
  private readonly responder = new ComPortResponder();
  private readonly wantComPort: boolean;
  private readonly offerWriterFence: boolean;
  private pendingStatus: ConsoleStatus | undefined;
  private queuedComPort: ComPortRequest[] = [];
  private closed = false;
  /**
   * Data (and writer claims, in their place among the data) and the latest status that arrived
   * before anyone listened; the stream waits meanwhile.
   */
  private heldData: Array<Buffer | bigint> = [];
  private heldStatus: ConsoleStatus | undefined;
  private heldPause = false;
  private userPaused = false;

  constructor(
    private readonly stream: Duplex,
    options: TelnetEndpointOptions,
  ) {
    super();
    this.role = options.role;
    this.wantComPort = options.comPort ?? false;
    this.offerWriterFence = options.writerFence ?? false;
    this.log = (options.logger ?? silentLogger()).child({ component: 'telnet', role: this.role });
    this.parser = new TelnetParser({ maxSubnegotiation: options.maxSubnegotiation });
    this.negotiator = new OptionNegotiator({
      send: (verb, option) => this.sendNegotiation(verb, option),
      accept: (option, side) => this.accepts(option, side),
      onChange: (change) => this.onOptionChange(change),
      onProblem: (message) => this.log.debug({ problem: message }, 'telnet negotiation problem'),
    });

    this.on('newListener', (event) => {
      if (event === 'data' || event === 'status') queueMicrotask(() => this.releaseHeld());
    });
    stream.on('data', (chunk: Buffer) => this.onBytes(chunk));
    stream.on('drain', () => this.emit('drain'));
    stream.on('end', () => this.emit('end'));
    stream.on('error', (err: Error) => this.emit('error', err));
    stream.on('close', () => {
      this.closed = true;
      this.emit('close');
    });

    for (const option of [TelnetOption.BINARY, TelnetOption.SGA]) {
      this.negotiator.request(option, 'local', true);
      this.negotiator.request(option, 'remote', true);
    }
    if (this.role === 'client') {
      if (this.wantComPort) this.negotiator.request(TelnetOption.COM_PORT_OPTION, 'local', true);
      this.negotiator.request(TelnetOption.LIFELINE_STATUS, 'remote', true);
      if (this.offerWriterFence) this.negotiator.request(TelnetOption.LIFELINE_WRITER, 'local', true);
    }
  }

  /** RFC 2217 is agreed: the client may send COM-PORT-OPTION commands, the server answers them. */
  get comPortActive(): boolean {
    return this.negotiator.isEnabled(TelnetOption.COM_PORT_OPTION, this.comPortSide);
  }

  /** Whether an option is on for one side, e.g. `(TelnetOption.BINARY, 'remote')`. */
  optionEnabled(option: number, side: OptionSide): boolean {
    return this.negotiator.isEnabled(option, side);
  }

  /**
   * Resolves true once RFC 2217 is active, false when the peer refused it, it was never offered,
   * or the stream closed first. A server only learns of it when a client offers it, so there this
   * reports the current state. Never rejects; bound the wait with a timer of your own.
   */
  whenComPortSettled(): Promise<boolean> {
    const pending = () => this.negotiator.isPending(TelnetOption.COM_PORT_OPTION, this.comPortSide);
    if (!pending() || this.closed) return Promise.resolve(this.comPortActive);
    return new Promise((resolve) => {
      const check = (): void => {
        if (pending() && !this.closed) return;
        this.off('option', check);
        this.off('close', check);
        resolve(this.comPortActive);
      };
      this.on('option', check);
      this.on('close', check);
    });
  }

  /** Sends application bytes (IAC doubled); returns the stream's backpressure signal. */
  write(data: Buffer): boolean {
    if (!this.stream.writable) return false;
    return this.stream.write(escapeIac(data));
  }

  /**
   * Client side with RFC 2217: `on`/`off` send SET-CONTROL BREAK ON/OFF. Otherwise (and for
   * `pulse`) `on` sends IAC BRK and `off` does nothing. Never waits for a reply.
   */
  sendBreak(action: BreakAction): void {
    if (action !== 'pulse' && this.role === 'client' && this.comPortActive) {
      const value = action === 'on' ? SetControl.BREAK_ON : SetControl.BREAK_OFF;
      this.sendComPortNow({ command: 'set-control', value });
      return;
    }
    if (action !== 'off') this.writeControl(encodeCommand(TelnetCommand.BRK));
  }

  /**
   * Client side: sends an RFC 2217 command now, or once RFC 2217 is agreed (up to 32 kept).
   * Returns false when it will not be sent: not a client, RFC 2217 not offered or refused.
   */
  sendComPort(request: ComPortRequest): boolean {
    if (this.role !== 'client' || !this.wantComPort) return false;
    if (this.comPortActive) {
      this.sendComPortNow(request);
      return true;
    }
    if (!this.negotiator.isPending(TelnetOption.COM_PORT_OPTION, 'local')) return false;
    if (this.queuedComPort.push(request) > MAX_QUEUED_COM_PORT) this.queuedComPort.shift();
    return true;
  }

  /**
   * Server side: reports the console's state to the client. Sent once the client agreed to
   * LIFELINE-STATUS; until then only the latest status is kept (a peer that refuses never gets one).
   */
  sendStatus(status: ConsoleStatus): void {
    if (this.role !== 'server') throw new Error('sendStatus is for the server side of a Telnet stream');
    if (this.negotiator.isEnabled(TelnetOption.LIFELINE_STATUS, 'local')) {
      this.writeControl(encodeSubnegotiation(TelnetOption.LIFELINE_STATUS, encodeConsoleStatus(status)));
    } else {
      this.pendingStatus = status;
    }
  }

  /**
   * Client side: the fencing token of the group's writer lease this relay holds for the device
   * (LIFELINE-WRITER). Sent at once while the option is agreed or still being offered (the agent
   * agrees when it reads the offer, which comes first on the stream, so a claim written right
   * after it is understood); returns false when the agent refused the option (an older agent).
   */
  sendWriterClaim(token: bigint): boolean {
    if (this.role !== 'client') throw new Error('sendWriterClaim is for the client side of a Telnet stream');
    const option = TelnetOption.LIFELINE_WRITER;
    if (!this.negotiator.isEnabled(option, 'local') && !this.negotiator.isPending(option, 'local')) return false;
    this.writeControl(encodeSubnegotiation(option, encodeWriterClaim(token)));
    return true;
  }

  /**
   * Server side: tells the relay that what it sent was refused by the writer fence. Returns false
   * when the relay does not speak LIFELINE-WRITER (a relay alone never offers it if older).
   */
  sendWriterRefusal(refusal: WriterRefusal): boolean {
    if (this.role !== 'server') throw new Error('sendWriterRefusal is for the server side of a Telnet stream');
    if (!this.negotiator.isEnabled(TelnetOption.LIFELINE_WRITER, 'remote')) return false;
    this.writeReply(encodeSubnegotiation(TelnetOption.LIFELINE_WRITER, encodeWriterRefusal(refusal)));
    return true;
  }

  pause(): this {
    this.userPaused = true;
    this.stream.pause();
    return this;
  }

  /** Resumes the stream, unless it waits for a first `data` listener to take what it holds. */
  resume(): this {
    this.userPaused = false;
    if (!this.heldPause) this.stream.resume();
    return this;
  }

  end(): void {
    this.stream.end();
  }

  destroy(err?: Error): void {
    this.stream.destroy(err);
  }

  private get comPortSide(): OptionSide {
    return this.role === 'client' ? 'local' : 'remote';
  }

  private accepts(option: number, side: OptionSide): boolean {
    switch (option) {
      case TelnetOption.BINARY:
      case TelnetOption.SGA:
        return true;
      case TelnetOption.COM_PORT_OPTION:
        return this.wantComPort && side === this.comPortSide;
      case TelnetOption.LIFELINE_STATUS:
        return side === (this.role === 'server' ? 'local' : 'remote');
      case TelnetOption.LIFELINE_WRITER:
        return this.role === 'client' ? this.offerWriterFence && side === 'local' : side === 'remote';
      default:
        return false;
    }
  }

  private onOptionChange(change: OptionChange): void {
    this.log.debug(change, 'telnet option settled');
    const { option, side, enabled } = change;
    if (option === TelnetOption.COM_PORT_OPTION && this.role === 'client') {
      const queued = this.queuedComPort;
      this.queuedComPort = [];
      if (enabled) for (const request of queued) this.sendComPortNow(request);
    }
    if (option === TelnetOption.LIFELINE_STATUS && side === 'local' && enabled && this.pendingStatus) {
      const status = this.pendingStatus;
      this.pendingStatus = undefined;
      this.sendStatus(status);
    }
    this.emit('option', change);
  }

  private onBytes(chunk: Buffer): void {
    this.log.trace({ bytes: chunk.length }, 'telnet bytes in');
    for (const event of this.parser.feed(chunk)) this.onEvent(event);
  }

  private onEvent(event: TelnetEvent): void {
    switch (event.type) {
      case 'data':
        this.deliverData(event.data);
        return;
      case 'negotiation':
        this.negotiator.receive(event.verb, event.option);
        return;
      case 'command':
        if (event.command === TelnetCommand.BRK) this.emit('break', 'pulse');
        else this.log.debug({ command: event.command }, 'telnet command ignored');
        return;
      case 'subnegotiation':
        this.onSubnegotiation(event.option, event.payload);
        return;
      case 'error':
        this.log.warn({ problem: event.problem, option: event.option }, 'telnet protocol error from peer; dropped');
        return;
    }
  }

  private deliverData(data: Buffer): void {
    if (this.heldData.length === 0 && this.listenerCount('data') > 0) {
      this.emit('data', data);
      return;
    }
    this.hold(data);
  }

  private hold(item: Buffer | bigint): void {
    this.heldData.push(item);
    if (!this.heldPause) {
      this.heldPause = true;
      this.stream.pause();
    }
  }

  private releaseHeld(): void {
    const status = this.heldStatus;
    if (status && this.listenerCount('status') > 0) {
      this.heldStatus = undefined;
      this.emit('status', status);
    }
    if (this.listenerCount('data') === 0 || !this.heldPause) return;
    const held = this.heldData;
    this.heldData = [];
    this.heldPause = false;
    for (const item of held) {
      if (typeof item === 'bigint') this.emit('writerClaim', item);
      else this.emit('data', item);
    }
    if (!this.userPaused) this.stream.resume();
  }

  private onSubnegotiation(option: number, payload: Buffer): void {
    if (option === TelnetOption.COM_PORT_OPTION && this.comPortActive) {
      const message = decodeComPort(payload);
      if (!message) this.log.debug({ payload: payload.toString('hex') }, 'malformed RFC 2217 message ignored');
      else if (this.role === 'server') this.onComPortCommand(message);
      else this.emit('comPort', message);
      return;
    }
    if (
      option === TelnetOption.LIFELINE_STATUS &&
      this.role === 'client' &&
      this.negotiator.isEnabled(TelnetOption.LIFELINE_STATUS, 'remote')
    ) {
      const status = decodeConsoleStatus(payload);
      if (status && this.listenerCount('status') > 0) this.emit('status', status);
      else if (status) this.heldStatus = status;
      else this.log.debug({ bytes: payload.length }, 'malformed LIFELINE-STATUS ignored');
      return;
    }
    if (option === TelnetOption.LIFELINE_WRITER) {
      this.onWriterSubnegotiation(payload);
      return;
    }
    this.log.debug({ option, bytes: payload.length }, 'subnegotiation for an option not agreed; ignored');
  }

  /** A claim (server side) keeps its place among the data: input after it is the claim's. */
  private onWriterSubnegotiation(payload: Buffer): void {
    const side = this.role === 'client' ? 'local' : 'remote';
    if (!this.negotiator.isEnabled(TelnetOption.LIFELINE_WRITER, side)) {
      this.log.debug({ bytes: payload.length }, 'LIFELINE-WRITER not agreed; ignored');
      return;
    }
    if (this.role === 'client') {
      const refusal = decodeWriterRefusal(payload);
      if (refusal) this.emit('writerRefusal', refusal);
      else this.log.debug({ bytes: payload.length }, 'malformed LIFELINE-WRITER refusal ignored');
      return;
    }
    const token = decodeWriterClaim(payload);
    if (token === undefined) this.log.debug({ bytes: payload.length }, 'malformed LIFELINE-WRITER claim ignored');
    else if (this.heldData.length > 0 || this.listenerCount('data') === 0) this.hold(token);
    else this.emit('writerClaim', token);
  }

  private onComPortCommand(message: ComPortMessage): void {
    const reply = this.responder.reply(message);
    if (reply) this.writeReply(encodeSubnegotiation(TelnetOption.COM_PORT_OPTION, encodeComPort(reply)));
    if (message.command === 'set-control' && message.value === SetControl.BREAK_ON) this.emit('break', 'on');
    else if (message.command === 'set-control' && message.value === SetControl.BREAK_OFF) this.emit('break', 'off');
    else this.emit('comPort', message);
  }

  private sendComPortNow(request: ComPortRequest): void {
    const payload = encodeComPort({ ...request, fromServer: false });
    this.writeControl(encodeSubnegotiation(TelnetOption.COM_PORT_OPTION, payload));
  }

  private sendNegotiation(verb: NegotiationVerb, option: number): void {
    this.log.debug({ verb, option }, 'telnet negotiation out');
    this.writeReply(encodeNegotiation(verb, option));
  }

  /** Replies the peer provoked: dropped when the peer has stopped reading our output. */
  private writeReply(bytes: Buffer): void {
    if (this.stream.writableLength > MAX_PENDING_REPLIES_BYTES) {
      this.log.warn('peer not reading; telnet reply dropped');
      return;
    }
    this.writeControl(bytes);
  }

  private writeControl(bytes: Buffer): void {
    if (this.stream.writable) this.stream.write(bytes);
  }
}
