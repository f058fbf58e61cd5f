import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../log/logger.js';

/** A real pino logger whose JSON lines land, parsed, in `lines`, for tests that assert on log events. */
export function capturedLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ svc: 'test', version: '0', destination }), lines };
}
