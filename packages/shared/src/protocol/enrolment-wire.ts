import { NAME_MAX_LENGTH, NAME_PATTERN } from '../config/names.js';

/**
 * Zero-touch enrolment on the wire (docs/protocol.md, "Enrolment"). The agent logs in as
 * {@link ENROL_LOGIN_NAME} with publickey auth using its NEW key (proving it holds it), opens a
 * session channel, requests the subsystem {@link ENROL_SUBSYSTEM}, sends one JSON line
 * `{"device":..,"token":..}` and reads one JSON line back. The token is left out when the agent
 * polls while it waits for approval (the key alone is asked about).
 */

/** The reserved SSH user an agent enrols as; it gets this one subsystem and nothing else. */
export const ENROL_LOGIN_NAME = 'lifeline-enrol';
/** The one subsystem the enrolment user may request. */
export const ENROL_SUBSYSTEM = 'lifeline-enrol@lifeline';
/** A request or answer line longer than this is refused (a token and a device id fit in far less). */
export const MAX_ENROL_LINE_BYTES = 1_024;

/** Why the relay refused a redeem; each has its own agent log line and LED state. */
export const ENROL_REFUSALS = ['unknown', 'expired', 'used', 'other-device', 'revoked'] as const;
export type EnrolRefusal = (typeof ENROL_REFUSALS)[number];

/** What the agent sends. */
export interface EnrolRequest {
  device: string;
  /** The enrolment token from the file; undefined when polling with an already bound key. */
  token: string | undefined;
}

/** What the relay answers. `refused` without a known reason is read as `unknown`. */
export type EnrolAnswer = { result: 'enrolled' } | { result: 'pending' } | { result: 'refused'; reason: EnrolRefusal };

/** 128-bit tokens as `lifeline-enrol` prints them: 32 lowercase hex digits. */
export const ENROL_TOKEN_PATTERN = /^[0-9a-f]{32}$/;

/**
 * Parses the agent's request line. Returns a problem (for the relay's log, never echoed raw)
 * instead of throwing: the line is a stranger's text.
 */
export function parseEnrolRequest(line: string): EnrolRequest | { problem: string } {
  if (Buffer.byteLength(line) > MAX_ENROL_LINE_BYTES) return { problem: `line longer than ${MAX_ENROL_LINE_BYTES} bytes` };
  const value = parseObject(line);
  if (value === undefined) return { problem: 'not a JSON object' };
  const { device, token } = value;
  if (typeof device !== 'string' || device.length > NAME_MAX_LENGTH || !NAME_PATTERN.test(device))
    return { problem: 'device missing or not a device id' };
  if (token !== undefined && (typeof token !== 'string' || !ENROL_TOKEN_PATTERN.test(token)))
    return { problem: 'token is not 32 lowercase hex digits' };
  const extra = Object.keys(value).filter((k) => k !== 'device' && k !== 'token');
  if (extra.length > 0) return { problem: 'unexpected fields' };
  return { device, token };
}

/** Parses the relay's answer line; undefined when it is not one (a relay of another kind). */
export function parseEnrolAnswer(line: string): EnrolAnswer | undefined {
  if (Buffer.byteLength(line) > MAX_ENROL_LINE_BYTES) return undefined;
  const value = parseObject(line);
  if (value === undefined) return undefined;
  if (value.result === 'enrolled' || value.result === 'pending') return { result: value.result };
  if (value.result !== 'refused') return undefined;
  const reason = ENROL_REFUSALS.find((r) => r === value.reason) ?? 'unknown';
  return { result: 'refused', reason };
}

/** One line (with its newline) for either side. */
export function enrolLine(message: EnrolAnswer | EnrolRequest): string {
  return `${JSON.stringify(message)}\n`;
}

function parseObject(line: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
