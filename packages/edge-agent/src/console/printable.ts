/** A short line from a peer's raw text (a terminal server, ipmitool), fit for an error message. */
export function printable(bytes: Buffer): string {
  return bytes
    .toString('latin1')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, 200);
}
