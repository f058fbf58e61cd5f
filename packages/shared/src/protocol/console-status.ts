import { printable } from '../printable.js';

/** The console kinds an agent serves (its config's `type`). */
export type ConsoleKind = 'serial' | 'telnet' | 'ipmi-sol' | 'sim';

/**
 * Payload of lifeline's private LIFELINE-STATUS Telnet option: whether the console behind a
 * tunnel stream is usable, so the relay can tell every person at the console, including one who
 * joins later, e.g. "serial port /dev/ttyUSB0 is not present"; and what the console is, for
 * `lifeline-relay devices` and for the escape menus. Older agents send `state` and
 * `message` only: the other fields are then undefined.
 */
export interface ConsoleStatus {
  state: 'up' | 'down';
  /** One line fit to show a person; at most MAX_STATUS_MESSAGE characters. */
  message?: string;
  /** What carries the console: `serial`, `telnet`, `ipmi-sol`, `sim` (other values are kept as sent). */
  kind?: string;
  /** Line settings as people write them, e.g. `9600 8N1`; absent when the agent does not set them. */
  line?: string;
  /** Whether the agent can control the device's power (a BMC behind an `ipmi-sol` console). */
  power?: boolean;
}

/** Longer messages are cut on sending so a status always fits the peer's subnegotiation limit. */
export const MAX_STATUS_MESSAGE = 500;
/** `kind` and `line` are short words; longer ones are cut. */
const MAX_STATUS_WORD = 40;

/**
 * UTF-8 JSON, e.g.
 * `{"state":"down","message":"serial port /dev/ttyUSB0 is not present","kind":"serial","line":"9600 8N1","power":false}`.
 */
export function encodeConsoleStatus(status: ConsoleStatus): Buffer {
  const body: ConsoleStatus = { state: status.state };
  if (status.message !== undefined) body.message = status.message.slice(0, MAX_STATUS_MESSAGE);
  if (status.kind !== undefined) body.kind = status.kind.slice(0, MAX_STATUS_WORD);
  if (status.line !== undefined) body.line = status.line.slice(0, MAX_STATUS_WORD);
  if (status.power !== undefined) body.power = status.power;
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/**
 * Reads a status from the peer; undefined when it is not JSON or `state` is missing or wrong.
 * Unknown keys are ignored so a newer agent can add some; a known key of the wrong type is
 * dropped. Text fields come back `printable()`: they are shown on people's terminals.
 */
export function decodeConsoleStatus(payload: Buffer): ConsoleStatus | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { state, message, kind, line, power } = value as Record<string, unknown>;
  if (state !== 'up' && state !== 'down') return undefined;
  if (message !== undefined && typeof message !== 'string') return undefined;
  const status: ConsoleStatus = { state };
  if (typeof message === 'string') status.message = printable(message, MAX_STATUS_MESSAGE);
  if (typeof kind === 'string' && kind !== '') status.kind = printable(kind, MAX_STATUS_WORD);
  if (typeof line === 'string' && line !== '') status.line = printable(line, MAX_STATUS_WORD);
  if (typeof power === 'boolean') status.power = power;
  return status;
}

const PARITY_LETTER: Record<string, string> = { none: 'N', even: 'E', odd: 'O', mark: 'M', space: 'S' };

/** `9600 8N1` from a serial line's settings, the way people write them. */
export function formatLineSettings(line: { baudRate: number; dataBits: number; parity: string; stopBits: number }): string {
  return `${line.baudRate} ${line.dataBits}${PARITY_LETTER[line.parity] ?? '?'}${line.stopBits}`;
}
