/**
 * One byte stream (a console's output, or a person's input) made into the text of JSON strings,
 * as UTF-8 bytes, chunk by chunk: what `JSON.stringify(decoder.write(chunk)).slice(1, -1)` gives
 * with a streaming UTF-8 decoder, without the strings in between. A recording event's data is
 * text (asciicast v2), and a busy console turned every chunk into a JS string, escaped it into a
 * second one and encoded that back to bytes: 40 % of the relay's CPU for device output. Here one
 * pass over the bytes writes the escaped text.
 *
 * Decoding is the WHATWG Encoding Standard's UTF-8 decoder (as TextDecoder and Node.js's
 * StringDecoder): a valid sequence is kept as it is, each maximal invalid subpart becomes
 * U+FFFD, and a character split across two chunks is joined. Escaping is JSON.stringify's: `"`,
 * `\` and the C0 controls, with the short forms where JSON has them.
 */
export class JsonTextEncoder {
  /** Bytes of a character begun and not yet written (at most 3 wait for a later chunk). */
  private readonly held = new Uint8Array(4);
  private heldLength = 0;
  /** How many bytes the held character needs in all (2 to 4), and the bounds of its next byte. */
  private needed = 0;
  private lower = 0x80;
  private upper = 0xbf;

  /**
   * The JSON string text for `data` (without quotes), between `frame.start` (ASCII) and
   * `frame.end` when given (the rest of a file's line, so the line is made in one buffer); empty
   * when `data` gave no text. A character left incomplete at its end waits for the next chunk.
   */
  encode(data: Uint8Array, frame: TextFrame = NO_FRAME): Buffer {
    // The worst case per byte is 6 (`\u001b`), and a held character can come out as 3 replacement characters.
    const out = scratch(frame.start.length + data.length * 6 + 9 + frame.end.length);
    const textStart = writeAscii(out, frame.start);
    const held = this.held;
    // The state in locals for the loop (this runs once per byte of console output).
    let heldLength = this.heldLength;
    let needed = this.needed;
    let lower = this.lower;
    let upper = this.upper;
    let o = textStart;
    let i = 0;
    const n = data.length;
    while (i < n) {
      const byte = data[i]!;
      if (needed === 0) {
        i++;
        if (byte < 0x80) {
          const escape = ESCAPE_LENGTH[byte]!;
          if (escape === 0) out[o++] = byte;
          else if (escape === 2) {
            out[o++] = 0x5c;
            out[o++] = SHORT_ESCAPE[byte]!;
          } else {
            out[o++] = 0x5c;
            out[o++] = 0x75;
            out[o++] = 0x30;
            out[o++] = 0x30;
            out[o++] = HEX[byte >> 4]!;
            out[o++] = HEX[byte & 15]!;
          }
          continue;
        }
        lower = 0x80;
        upper = 0xbf;
        if (byte >= 0xc2 && byte <= 0xdf) needed = 2;
        else if (byte >= 0xe0 && byte <= 0xef) {
          needed = 3;
          if (byte === 0xe0) lower = 0xa0;
          else if (byte === 0xed) upper = 0x9f;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          needed = 4;
          if (byte === 0xf0) lower = 0x90;
          else if (byte === 0xf4) upper = 0x8f;
        } else {
          out[o++] = 0xef;
          out[o++] = 0xbf;
          out[o++] = 0xbd;
          continue;
        }
        held[0] = byte;
        heldLength = 1;
        continue;
      }
      if (byte < lower || byte > upper) {
        // The character broke off: it becomes one U+FFFD, and this byte starts afresh.
        needed = 0;
        heldLength = 0;
        out[o++] = 0xef;
        out[o++] = 0xbf;
        out[o++] = 0xbd;
        continue;
      }
      i++;
      held[heldLength++] = byte;
      lower = 0x80;
      upper = 0xbf;
      if (heldLength === needed) {
        // A whole, valid character: its bytes are its UTF-8, as JSON wants them.
        for (let k = 0; k < heldLength; k++) out[o++] = held[k]!;
        needed = 0;
        heldLength = 0;
      }
    }
    this.heldLength = heldLength;
    this.needed = needed;
    this.lower = lower;
    this.upper = upper;
    if (o === textStart) return EMPTY;
    out.set(frame.end, o);
    return Buffer.from(out.subarray(0, o + frame.end.length));
  }

  /** The end of the stream: a character still incomplete becomes U+FFFD (framed as in `encode`). */
  end(frame: TextFrame = NO_FRAME): Buffer {
    if (this.needed === 0) return EMPTY;
    this.clear();
    return Buffer.concat([Buffer.from(frame.start, 'latin1'), REPLACEMENT, frame.end]);
  }

  /** Forgets a character begun (the chunk after it was dropped), without writing anything for it. */
  reset(): void {
    this.clear();
  }

  private clear(): void {
    this.heldLength = 0;
    this.needed = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}

/** What goes before and after the text in the buffer `encode` returns. */
export interface TextFrame {
  /** ASCII only. */
  start: string;
  end: Uint8Array;
}

const NO_FRAME: TextFrame = { start: '', end: new Uint8Array(0) };
const EMPTY = Buffer.alloc(0);
const REPLACEMENT = Uint8Array.of(0xef, 0xbf, 0xbd);

function writeAscii(out: Uint8Array, text: string): number {
  for (let k = 0; k < text.length; k++) out[k] = text.charCodeAt(k);
  return text.length;
}

/** For each ASCII byte, the length of JSON.stringify's escape of it: 0 (none), 2 (`\n`) or 6 (`\u001b`). */
const ESCAPE_LENGTH = Uint8Array.from({ length: 0x80 }, (_, byte) => {
  const char = String.fromCharCode(byte);
  const escaped = JSON.stringify(char).slice(1, -1);
  return escaped === char ? 0 : escaped.length;
});
/** The second byte of a two-byte escape (`n` of `\n`). */
const SHORT_ESCAPE = Uint8Array.from({ length: 0x80 }, (_, byte) => {
  const escaped = JSON.stringify(String.fromCharCode(byte)).slice(1, -1);
  return escaped.length === 2 ? escaped.charCodeAt(1) : 0;
});
/** JSON.stringify writes `\u00XX` escapes in lower case. */
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

let scratchBuffer = new Uint8Array(0);

/** One buffer reused for every encode (the result is copied out of it), grown when a chunk needs more. */
function scratch(bytes: number): Uint8Array {
  if (scratchBuffer.length < bytes) scratchBuffer = new Uint8Array(Math.max(bytes, scratchBuffer.length * 2));
  return scratchBuffer;
}
