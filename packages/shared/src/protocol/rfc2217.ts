/**
 * RFC 2217 (Telnet Com Port Control): the payload of `IAC SB COM-PORT-OPTION ... IAC SE`.
 * The client sends commands 0..12; the server answers (or notifies) with the same code + 100.
 */

export const ComPortCommand = {
  SIGNATURE: 0,
  SET_BAUDRATE: 1,
  SET_DATASIZE: 2,
  SET_PARITY: 3,
  SET_STOPSIZE: 4,
  SET_CONTROL: 5,
  NOTIFY_LINESTATE: 6,
  NOTIFY_MODEMSTATE: 7,
  FLOWCONTROL_SUSPEND: 8,
  FLOWCONTROL_RESUME: 9,
  SET_LINESTATE_MASK: 10,
  SET_MODEMSTATE_MASK: 11,
  PURGE_DATA: 12,
} as const;

/** Added to a command code for the server's reply or notification. */
export const SERVER_CODE_OFFSET = 100;

/** Values of SET-CONTROL. The "request" values ask the server for the current state. */
export const SetControl = {
  REQUEST_FLOW: 0,
  FLOW_NONE: 1,
  FLOW_XONXOFF: 2,
  FLOW_HARDWARE: 3,
  REQUEST_BREAK: 4,
  BREAK_ON: 5,
  BREAK_OFF: 6,
  REQUEST_DTR: 7,
  DTR_ON: 8,
  DTR_OFF: 9,
  REQUEST_RTS: 10,
  RTS_ON: 11,
  RTS_OFF: 12,
  REQUEST_INBOUND_FLOW: 13,
  INBOUND_FLOW_NONE: 14,
  INBOUND_FLOW_XONXOFF: 15,
  INBOUND_FLOW_HARDWARE: 16,
  FLOW_DCD: 17,
  FLOW_DTR: 18,
  FLOW_DSR: 19,
} as const;

/** Values of SET-PARITY (0 asks for the current one). */
export const Parity = { REQUEST: 0, NONE: 1, ODD: 2, EVEN: 3, MARK: 4, SPACE: 5 } as const;

/** Values of SET-STOPSIZE (0 asks for the current one). */
export const StopSize = { REQUEST: 0, ONE: 1, TWO: 2, ONE_AND_HALF: 3 } as const;

/** Values of PURGE-DATA. */
export const PurgeData = { RECEIVE: 1, TRANSMIT: 2, BOTH: 3 } as const;

const commandNames = [
  'signature',
  'set-baudrate',
  'set-datasize',
  'set-parity',
  'set-stopsize',
  'set-control',
  'notify-linestate',
  'notify-modemstate',
  'flowcontrol-suspend',
  'flowcontrol-resume',
  'set-linestate-mask',
  'set-modemstate-mask',
  'purge-data',
] as const;

export type ComPortCommandName = (typeof commandNames)[number];

/** One decoded COM-PORT-OPTION subnegotiation. */
export interface ComPortMessage {
  command: ComPortCommandName;
  /** Sent by the server (code + 100): a reply to a command, or a notification. */
  fromServer: boolean;
  /**
   * The value: a 32-bit baud rate for `set-baudrate`, one byte for the others; absent for
   * `signature`, `flowcontrol-suspend` and `flowcontrol-resume`.
   */
  value?: number;
  /** `signature` only: the sender's signature text, empty when asking for the peer's. */
  text?: string;
}

type ValueKind = 'none' | 'text' | 'uint32' | 'byte';

function valueKind(command: ComPortCommandName): ValueKind {
  switch (command) {
    case 'signature':
      return 'text';
    case 'set-baudrate':
      return 'uint32';
    case 'flowcontrol-suspend':
    case 'flowcontrol-resume':
      return 'none';
    default:
      return 'byte';
  }
}

/** The wire code of a command name (client side; add SERVER_CODE_OFFSET for the server's). */
export function comPortCode(command: ComPortCommandName): number {
  return commandNames.indexOf(command);
}

/**
 * Encodes a message as the subnegotiation payload (without IAC SB 44 and IAC SE, and before IAC
 * escaping). Throws RangeError for a value that does not fit its field.
 */
export function encodeComPort(message: ComPortMessage): Buffer {
  const code = comPortCode(message.command) + (message.fromServer ? SERVER_CODE_OFFSET : 0);
  switch (valueKind(message.command)) {
    case 'none':
      return Buffer.from([code]);
    case 'text':
      return Buffer.concat([Buffer.from([code]), Buffer.from(message.text ?? '', 'utf8')]);
    case 'uint32': {
      const out = Buffer.alloc(5);
      out[0] = code;
      out.writeUInt32BE(message.value ?? 0, 1);
      return out;
    }
    case 'byte': {
      const value = message.value ?? 0;
      if (!Number.isInteger(value) || value < 0 || value > 255) {
        throw new RangeError(`${message.command} value ${value} does not fit in one byte`);
      }
      return Buffer.from([code, value]);
    }
  }
}

/** Decodes a COM-PORT-OPTION payload; undefined when the code is unknown or the length wrong. */
export function decodeComPort(payload: Buffer): ComPortMessage | undefined {
  const raw = payload[0];
  if (raw === undefined) return undefined;
  const fromServer = raw >= SERVER_CODE_OFFSET;
  const command = commandNames[fromServer ? raw - SERVER_CODE_OFFSET : raw];
  if (command === undefined) return undefined;
  switch (valueKind(command)) {
    case 'none':
      return payload.length === 1 ? { command, fromServer } : undefined;
    case 'text':
      return { command, fromServer, text: payload.subarray(1).toString('utf8') };
    case 'uint32':
      return payload.length === 5 ? { command, fromServer, value: payload.readUInt32BE(1) } : undefined;
    case 'byte':
      return payload.length === 2 ? { command, fromServer, value: payload[1] as number } : undefined;
  }
}
