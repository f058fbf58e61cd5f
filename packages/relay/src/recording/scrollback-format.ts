/** A UTF-8 character has at most three continuation bytes (10xxxxxx) after its lead byte. */
const MAX_CONTINUATION_BYTES = 3;

/**
 * Wraps a device's scrollback for a person who just joined, set apart from live output by a
 * header and a `---- live ----` footer (CRLF line endings, as on a terminal). The scrollback
 * starts wherever the ring was cut, so leading UTF-8 continuation bytes (the rest of a character
 * whose start was cut off) are skipped; nothing else is touched, the bytes are the device's.
 * An empty scrollback gives an empty buffer, so the caller can write the result unconditionally.
 */
export function formatScrollback(bytes: Buffer, deviceId: string): Buffer {
  let start = 0;
  while (start < bytes.length && start < MAX_CONTINUATION_BYTES && isContinuation(bytes[start]!)) start++;
  const body = bytes.subarray(start);
  if (body.length === 0) return Buffer.alloc(0);
  const header = `---- last ${body.length} bytes of ${deviceId} console output (before you joined) ----\r\n`;
  // Start the footer on a line of its own, without an empty line if the output ended one.
  const footer = `${body[body.length - 1] === 0x0a ? '' : '\r\n'}---- live ----\r\n`;
  return Buffer.concat([Buffer.from(header), body, Buffer.from(footer)]);
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
