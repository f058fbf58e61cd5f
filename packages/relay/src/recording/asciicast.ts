import { open, readFile } from 'node:fs/promises';
import { LifelineError } from '@lifeline/shared/core';
import type { TextFrame } from './json-text-encoder.js';

/**
 * asciicast v2, the asciinema file format (https://docs.asciinema.org/manual/asciicast/v2/):
 * newline-delimited JSON, a header object on the first line, then one event array per line,
 * `[seconds_since_start, code, data]`. Line-per-event is what makes a recording valid up to its
 * last whole line after a crash.
 */

export interface AsciicastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix seconds of the start. */
  timestamp?: number;
  title?: string;
  env?: { TERM?: string; SHELL?: string };
  idle_time_limit?: number;
  [key: string]: unknown;
}

/** `o` output, `i` input, `r` resize ("COLSxROWS"), `m` marker (a label). */
export type AsciicastEventCode = 'o' | 'i' | 'r' | 'm';

export type AsciicastEvent = [time: number, code: AsciicastEventCode | (string & {}), data: string];

export interface Asciicast {
  header: AsciicastHeader;
  events: AsciicastEvent[];
  /** The last line was cut short (power loss mid-write) and left out. */
  truncated: boolean;
}

export function headerLine(header: AsciicastHeader): string {
  return `${JSON.stringify(header)}\n`;
}

/** One event as one line; time in seconds, to the microsecond like asciinema. */
export function eventLine(seconds: number, code: AsciicastEventCode, data: string): string {
  return `${eventStart(seconds, code)}${JSON.stringify(data).slice(1)}]\n`;
}

/**
 * What goes around an event's data, for data made into JSON string text as bytes
 * (json-text-encoder.ts): console output goes from bytes to the file's line in one buffer,
 * without a JS string in between.
 */
export function eventFrame(seconds: number, code: AsciicastEventCode): TextFrame {
  return { start: eventStart(seconds, code), end: LINE_END };
}

/** `[seconds,"code","`: the line up to its data's text (all ASCII). */
function eventStart(seconds: number, code: AsciicastEventCode): string {
  return `[${JSON.stringify(Math.round(seconds * 1e6) / 1e6)},${JSON.stringify(code)},"`;
}

const LINE_END = Buffer.from('"]\n', 'latin1');

function parseHeader(path: string, line: string | undefined): AsciicastHeader {
  let header: unknown;
  try {
    header = JSON.parse(line ?? '');
  } catch {
    throw new LifelineError('RECORDING_INVALID', `${path}: not an asciicast file (first line is not a JSON header)`);
  }
  const h = header as Partial<AsciicastHeader> | null;
  if (typeof h !== 'object' || h === null || h.version !== 2) {
    throw new LifelineError('RECORDING_INVALID', `${path}: not an asciicast v2 file (header has no "version": 2)`);
  }
  return h as AsciicastHeader;
}

function parseEvent(line: string): AsciicastEvent | undefined {
  try {
    const e: unknown = JSON.parse(line);
    if (Array.isArray(e) && e.length >= 3 && typeof e[0] === 'number' && typeof e[1] === 'string' && typeof e[2] === 'string') {
      return [e[0], e[1], e[2]];
    }
  } catch {
    // Reported by the caller, which knows whether this is the last line.
  }
  return undefined;
}

/**
 * Reads a whole recording. A last line that does not parse (cut short by a crash, or the zero
 * bytes a power loss can leave) is dropped and reported as `truncated`; a bad line anywhere else
 * throws LifelineError `RECORDING_INVALID`, as does a missing or non-v2 header. File system
 * errors (ENOENT...) are thrown as they are.
 */
export async function readAsciicast(path: string): Promise<Asciicast> {
  return parseAsciicast(path, await readFile(path, 'utf8'));
}

/** A whole recording's text, as readAsciicast reads it; `path` names it in the messages. */
export function parseAsciicast(path: string, text: string): Asciicast {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.replace(/\0+/g, '') === '') lines.pop();
  const header = parseHeader(path, lines[0]);
  const events: AsciicastEvent[] = [];
  let truncated = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const event = parseEvent(line);
    if (event) {
      events.push(event);
    } else if (i === lines.length - 1) {
      truncated = true;
    } else {
      throw new LifelineError('RECORDING_INVALID', `${path}:${i + 1}: not an asciicast event`);
    }
  }
  return { header, events, truncated };
}

/** Reads the header and the time of the last event without reading the whole file. */
export async function readAsciicastSummary(path: string): Promise<{ header: AsciicastHeader; duration: number; size: number }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const read = async (start: number, length: number): Promise<string> => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await file.read(buf, 0, length, start);
      return buf.subarray(0, bytesRead).toString('utf8');
    };
    const head = await read(0, Math.min(size, 64 * 1024));
    const firstNewline = head.indexOf('\n');
    if (firstNewline === -1 && size > head.length) return summaryOfWhole(path, size);
    const header = parseHeader(path, firstNewline === -1 ? head : head.slice(0, firstNewline));
    const tailStart = Math.max(0, size - 64 * 1024);
    const lines = (await read(tailStart, size - tailStart)).split('\n');
    // Piece 0 is the header, or a line cut by the window's start: skip it either way.
    for (let i = lines.length - 1; i >= 1; i--) {
      const event = parseEvent(lines[i]!);
      if (event) return { header, duration: event[0], size };
    }
    return tailStart === 0 ? { header, duration: 0, size } : summaryOfWhole(path, size);
  } finally {
    await file.close();
  }
}

/** Fallback for lines longer than the tail window. */
async function summaryOfWhole(path: string, size: number) {
  const cast = await readAsciicast(path);
  return { header: cast.header, duration: cast.events.at(-1)?.[0] ?? 0, size };
}
