/**
 * The relay's local admin protocol: newline-delimited JSON over a Unix socket. One request
 * `{"command":"sessions"}` gets one response, `{"ok":true,"sessions":...}` (the result under the
 * command's name) or `{"ok":false,"error":"..."}`.
 */

/** A request: the command, and any arguments later commands take. */
export interface AdminRequest {
  command: string;
  [argument: string]: unknown;
}

export type AdminResponse = { ok: true; [result: string]: unknown } | { ok: false; error: string };

/** A request line longer than this is refused (and the connection closed). */
export const MAX_REQUEST_BYTES = 4_096;
/** A response line longer than this is refused by the client. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Linux `sun_path` holds 108 bytes with the terminating NUL; Node silently cuts longer paths. */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Splits a byte stream into lines (without `\n` or `\r\n`), holding at most `maxLineBytes` of
 * an unfinished line: memory stays bounded whatever a peer sends.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Complete lines in order; `tooLong` once a line outgrows the bound (stop reading then). */
  push(chunk: Buffer): { lines: string[]; tooLong: boolean } {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const line = Buffer.concat([...this.pending, chunk.subarray(start, nl)]);
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
      if (line.length > this.maxLineBytes) return { lines, tooLong: true };
      lines.push(line.toString('utf8').replace(/\r$/, ''));
    }
    const rest = chunk.subarray(start);
    this.pending.push(rest);
    this.pendingBytes += rest.length;
    return { lines, tooLong: this.pendingBytes > this.maxLineBytes };
  }
}
