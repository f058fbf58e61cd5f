/**
 * Payload of lifeline's private LIFELINE-STATUS Telnet option: whether the console behind a
 * tunnel stream is usable, so the relay can tell every person at the console, including one who
 * joins later, e.g. "serial port /dev/ttyUSB0 is not present".
 */
export interface ConsoleStatus {
  state: 'up' | 'down';
  /** One line fit to show a person; at most MAX_STATUS_MESSAGE characters. */
  message?: string;
}

/** Longer messages are cut on sending so a status always fits the peer's subnegotiation limit. */
export const MAX_STATUS_MESSAGE = 500;

/** UTF-8 JSON, e.g. `{"state":"down","message":"serial port /dev/ttyUSB0 is not present"}`. */
export function encodeConsoleStatus(status: ConsoleStatus): Buffer {
  const body: ConsoleStatus = { state: status.state };
  if (status.message !== undefined) body.message = status.message.slice(0, MAX_STATUS_MESSAGE);
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/**
 * Reads a status from the peer; undefined when it is not JSON or not the expected shape.
 * Unknown keys are ignored so a newer agent can add some.
 */
export function decodeConsoleStatus(payload: Buffer): ConsoleStatus | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { state, message } = value as Record<string, unknown>;
  if (state !== 'up' && state !== 'down') return undefined;
  if (message === undefined) return { state };
  if (typeof message !== 'string') return undefined;
  return { state, message: message.slice(0, MAX_STATUS_MESSAGE) };
}
