/**
 * A graceful relay stop (docs/protocol.md): before it closes, the relay opens one stream per
 * tunnel with this originator address and sends one line, `RETURN <ms>`: when this agent should
 * come back. The relay spreads the delays over a window sized to the fleet, so an upgrade causes
 * no reconnect storm. The agent uses the delay instead of its backoff for its next attempt.
 */
export const RETURN_ORIGIN = 'lifeline-return';

/** Longest delay an agent accepts: a relay cannot park a site for longer than this. */
export const MAX_RETURN_DELAY_MS = 600_000;

/** A notice line is short; anything longer is not one. */
export const MAX_RETURN_LINE = 64;

export function encodeReturnNotice(delayMs: number): Buffer {
  return Buffer.from(`RETURN ${Math.max(0, Math.round(delayMs))}\n`, 'ascii');
}

/** The delay of a notice line (without its newline), capped at MAX_RETURN_DELAY_MS; undefined if it is not one. */
export function decodeReturnNotice(line: string): number | undefined {
  const m = /^RETURN (\d{1,9})$/.exec(line);
  return m ? Math.min(Number(m[1]), MAX_RETURN_DELAY_MS) : undefined;
}
