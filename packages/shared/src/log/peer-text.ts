/** Longest peer-chosen text (in characters, escapes included) that goes into a log or audit line. */
export const PEER_TEXT_MAX = 100;

// Control characters, invisible formatting (bidi overrides, zero-width), lone surrogates and
// line/paragraph separators: what could rewrite a terminal or hide text in a log viewer.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/**
 * Text a peer chose (login name, client version, request name, disconnect message, forward
 * address), made fit for a log or audit line: unsafe characters become `\xNN` or `\u{N}` escapes,
 * and the result is cut at `max` characters with `...(+N)` telling how many were left out. The one
 * place peer text enters a log line from the SSH front door; anything not a string is stringified.
 * The human (`--pretty`) log output also runs every string through it (with `max` Infinity), as a
 * second line of defence for text that reached a log object without it.
 */
export function peerText(text: unknown, max = PEER_TEXT_MAX): string {
  const raw = typeof text === 'string' ? text : String(text);
  let out = '';
  let used = 0;
  for (const ch of raw) {
    const piece = UNSAFE.test(ch) ? escape(ch) : ch;
    if (out.length + piece.length > max) break;
    out += piece;
    used += ch.length;
  }
  return used < raw.length ? `${out}...(+${raw.length - used})` : out;
}

function escape(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}
