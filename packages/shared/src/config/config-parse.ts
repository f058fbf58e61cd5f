import { parseDocument, stringify } from 'yaml';
import type { z } from 'zod';
import { LifelineError } from '../errors.js';
import { readBoundedFile } from './bounded-read.js';
import { ConfigError, formatKeyPath } from './config-error.js';

/**
 * YAML aliases may expand a small file into a huge value (a "billion laughs"); more than this
 * many alias expansions is refused as a config problem. No sane config needs more.
 */
export const MAX_YAML_ALIASES = 100;

/** A config file larger than this is refused unread (it would be a mistake: /dev/zero, a log). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * Parses and validates YAML text against a schema. Reports every problem at once (YAML syntax
 * errors with their line, schema problems with their key path); returns the defaulted config.
 * This loads yaml and zod and builds a Document model several times the text's size: daemons
 * call it only inside the config worker (config-loader.ts), never in their main isolate.
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
  return checkConfigValue(file, data, schema);
}

/** Validates a config value against a schema; returns it defaulted, or throws a ConfigError listing every problem. */
export function checkConfigValue<S extends z.ZodType>(file: string, value: unknown, schema: S): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => ({ file, key: formatKeyPath(issue.path), message: issue.message })));
  }
  return result.data;
}

/**
 * YAML text of a config value a program writes itself (agent.yaml after enrolment): the value as
 * given, after checking it against the schema (ConfigError naming `file` and each key otherwise).
 */
export function renderConfigText<S extends z.ZodType>(file: string, value: unknown, schema: S): string {
  checkConfigValue(file, value, schema);
  return stringify(value);
}

/** Reads, parses and validates a config file in this isolate. Throws CONFIG_UNREADABLE or ConfigError. */
export async function parseConfigFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = (await readBoundedFile(file, MAX_CONFIG_BYTES)).toString('utf8');
  } catch (err) {
    throw new LifelineError('CONFIG_UNREADABLE', `${file}: cannot read config: ${(err as Error).message}`, { cause: err });
  }
  return parseConfigText(file, text, schema);
}
