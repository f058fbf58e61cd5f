import { pino, type Logger, type LoggerOptions } from 'pino';
import { prettyStream } from './pretty-stream.js';

export type { Logger } from 'pino';

export interface LoggerConfig {
  /** Service name, the `svc` base field: "relay" or "agent". */
  svc: string;
  version: string;
  level?: string;
  /** Human-readable colour output (pino-pretty, control characters escaped) instead of JSON lines. */
  pretty?: boolean;
  /** Where the lines go; stdout unless a test passes a stream. */
  destination?: NodeJS.WritableStream;
}

/**
 * Keys that may carry secrets anywhere in a log object. Console bytes are never logged above
 * `trace` by convention; these paths catch credentials that slip into a context object.
 */
export const redactPaths = ['password', '*.password', 'passphrase', '*.passphrase', 'privateKey', '*.privateKey', 'secret', '*.secret'];

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    base: { svc: config.svc, version: config.version },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (config.pretty) return pino(options, prettyStream(config.destination ?? process.stdout, { colorize: true }));
  return config.destination ? pino(options, config.destination) : pino(options);
}

/** A logger that drops everything, for unit tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
