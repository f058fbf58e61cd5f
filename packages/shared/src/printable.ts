/**
 * Text from a peer (an agent's status or version string, a terminal server's or ipmitool's
 * output, a client's claim), made safe to print on a person's terminal and short enough for one
 * line: line breaks and tabs become one space, every other control character (C0, DEL, C1, which
 * covers ESC and CSI) is shown escaped as `\xNN`, the result is trimmed and cut to `maxLength`
 * characters (marked with `...`). A Buffer is read as Latin-1, byte for byte, so nothing in it is
 * lost or merged into a control sequence.
 */
export function printable(text: string | Buffer, maxLength = 200): string {
  const raw = typeof text === 'string' ? text : text.toString('latin1');
  const clean = raw
    .replace(/[\t\n\v\f\r]+/g, ' ')
    // eslint-disable-next-line no-control-regex -- escaping control characters is the point
    .replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .trim();
  return clean.length > maxLength ? `${clean.slice(0, Math.max(0, maxLength - 3))}...` : clean;
}
