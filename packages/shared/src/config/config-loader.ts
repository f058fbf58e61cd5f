import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { LifelineError, type ErrorCode } from '../errors.js';
import { readBoundedFile } from './bounded-read.js';

/** One thing wrong with a config file, located by file and key path (`users[0].devices[1]`). */
export interface ConfigProblem {
  file: string;
  key: string;
  message: string;
  /** What kind of problem, for the exit code; CONFIG_INVALID when absent. */
  code?: ErrorCode;
}

export function formatKeyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

/**
 * A LifelineError whose message lists every problem, one `file: key: problem` line each. Its
 * code is CONFIG_INVALID, or STARTUP_CANNOT_CREATE when every problem is a folder or file that
 * cannot be created (a different fix, a different exit code).
 */
export class ConfigError extends LifelineError {
  constructor(readonly problems: ConfigProblem[]) {
    const cannotCreate = problems.length > 0 && problems.every((p) => p.code === 'STARTUP_CANNOT_CREATE');
    super(cannotCreate ? 'STARTUP_CANNOT_CREATE' : 'CONFIG_INVALID', problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}: ${p.key}: ${p.message}`;
}

/**
 * YAML aliases may expand a small file into a huge value (a "billion laughs"); more than this
 * many alias expansions is refused as a config problem. No sane config needs more.
 */
export const MAX_YAML_ALIASES = 100;

/**
 * Parses and validates YAML text against a schema. Reports every problem at once (YAML syntax
 * errors with their line, schema problems with their key path); returns the defaulted config.
 */
export function parseConfigText<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        file,
        key: e.linePos?.[0] ? `line ${e.linePos[0].line}` : '(yaml)',
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? {};
  } catch (err) {
    // yaml throws a ReferenceError when the alias count is exceeded (or an alias is unresolved).
    throw new ConfigError([
      { file, key: '(yaml)', message: `${(err as Error).message.split('\n')[0]} (at most ${MAX_YAML_ALIASES} alias expansions)` },
    ]);
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => ({ file, key: formatKeyPath(issue.path), message: issue.message })));
  }
  return result.data;
}

/** A config file larger than this is refused unread (it would be a mistake: /dev/zero, a log). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Reads, parses and validates a config file. Throws CONFIG_UNREADABLE or ConfigError. */
export async function loadConfigFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = (await readBoundedFile(file, MAX_CONFIG_BYTES)).toString('utf8');
  } catch (err) {
    throw new LifelineError('CONFIG_UNREADABLE', `${file}: cannot read config: ${(err as Error).message}`, { cause: err });
  }
  return parseConfigText(file, text, schema);
}
