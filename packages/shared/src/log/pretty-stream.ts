import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type { prettyFactory as PrettyFactory } from 'pino-pretty';
import { peerText } from './peer-text.js';

/**
 * The human (`--pretty`) log output: pino's JSON lines in, pino-pretty's coloured lines out to
 * `destination`, in this process. Every string in a line (keys too) goes through `peerText` first:
 * the JSON output escapes control characters, pino-pretty alone would print them raw, and text a
 * peer chose (a request name, a disconnect message) must never reach a terminal as escape
 * sequences. Stack traces keep their line breaks; each of their lines is escaped alike.
 */
export function prettyStream(destination: NodeJS.WritableStream, options: { colorize: boolean }): Writable {
  // Loaded here, not at import: only --pretty needs it, and a daemon logging JSON need not hold it (issue 11).
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as { prettyFactory: typeof PrettyFactory };
  const format = prettyFactory({ colorize: options.colorize, translateTime: 'SYS:HH:MM:ss.l' });
  let partial = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      const out = lines
        .filter((line) => line !== '')
        .map((line) => prettyLine(line, format))
        .join('');
      if (out === '' || destination.write(out)) callback();
      else destination.once('drain', () => callback());
    },
  });
}

function prettyLine(line: string, format: (log: object) => string): string {
  let log: unknown;
  try {
    log = JSON.parse(line);
  } catch {
    return `${peerText(line, Infinity)}\n`;
  }
  return log !== null && typeof log === 'object' ? format(clean(log) as object) : `${peerText(line, Infinity)}\n`;
}

/** A copy of a parsed log line with every key and string escaped. */
function clean(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    return key === 'stack'
      ? value
          .split('\n')
          .map((l) => peerText(l, Infinity))
          .join('\n')
      : peerText(value, Infinity);
  }
  if (Array.isArray(value)) return value.map((v) => clean(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [peerText(k, Infinity), clean(v, k)]));
  }
  return value;
}
