import { printable } from '../printable.js';

/**
 * Payloads of lifeline's private LIFELINE-WRITER Telnet option (201), UTF-8 JSON in a
 * subnegotiation on a console stream (docs/protocol.md):
 * - relay -> agent, a **claim**: `{"token":"42"}`: this relay holds the group's writer lease of the
 *   device with fencing token 42; what it sends on this stream from now on is the writer's.
 * - agent -> relay, a **refusal**: `{"refused":"input","current":"57","holder":"relay-b:2222"}`:
 *   what this stream sent (`input`, `break` or its `token`) was not taken, because the largest
 *   token the agent has seen is 57, from the relay the agent dials as `holder`. `current` and
 *   `holder` are absent when the agent has none to name.
 * Tokens travel as decimal strings: they are PostgreSQL BIGINTs, beyond what a JSON number keeps.
 */
export type WriterRefusalKind = 'input' | 'break' | 'token';

export interface WriterRefusal {
  refused: WriterRefusalKind;
  /** The largest token the agent has seen for the device. */
  current?: bigint;
  /** The relay (as the agent dials it) that sent `current`. */
  holder?: string;
}

const TOKEN = /^[0-9]{1,19}$/;
const MAX_HOLDER = 300;
const KINDS: readonly string[] = ['input', 'break', 'token'];

export function encodeWriterClaim(token: bigint): Buffer {
  return Buffer.from(JSON.stringify({ token: token.toString() }), 'utf8');
}

/** The token of a claim; undefined for anything else (not JSON, no token, not a decimal BIGINT). */
export function decodeWriterClaim(payload: Buffer): bigint | undefined {
  const value = parseObject(payload);
  return value ? parseToken(value.token) : undefined;
}

export function encodeWriterRefusal(refusal: WriterRefusal): Buffer {
  const body: Record<string, string> = { refused: refusal.refused };
  if (refusal.current !== undefined) body.current = refusal.current.toString();
  if (refusal.holder !== undefined) body.holder = refusal.holder.slice(0, MAX_HOLDER);
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** A refusal from the agent; undefined when malformed. `holder` comes back printable: it is shown to people. */
export function decodeWriterRefusal(payload: Buffer): WriterRefusal | undefined {
  const value = parseObject(payload);
  if (!value || typeof value.refused !== 'string' || !KINDS.includes(value.refused)) return undefined;
  const refusal: WriterRefusal = { refused: value.refused as WriterRefusalKind };
  const current = parseToken(value.current);
  if (current !== undefined) refusal.current = current;
  if (typeof value.holder === 'string' && value.holder !== '') refusal.holder = printable(value.holder, MAX_HOLDER);
  return refusal;
}

function parseObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function parseToken(value: unknown): bigint | undefined {
  return typeof value === 'string' && TOKEN.test(value) ? BigInt(value) : undefined;
}
