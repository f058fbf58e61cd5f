import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { LifelineError } from '../errors.js';

/** One thing wrong with a config file, located by file and key path (`users[0].devices[1]`). */
export interface ConfigProblem {
  file: string;
  key: string;
  message: string;
}

export function formatKeyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

/** A LifelineError CONFIG_INVALID whose message lists every problem, one per line. */
export class ConfigError extends LifelineError {
  constructor(readonly problems: ConfigProblem[]) {
    super('CONFIG_INVALID', problems.map((p) => `${p.file}: ${p.key}: ${p.message}`).join('\n'));
  }
}

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
  const data: unknown = doc.toJS() ?? {};
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({ file, key: formatKeyPath(issue.path), message: issue.message })),
    );
  }
  return result.data;
}

/** Reads, parses and validates a config file. Throws CONFIG_UNREADABLE or ConfigError. */
export async function loadConfigFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new LifelineError('CONFIG_UNREADABLE', `${file}: cannot read config: ${(err as Error).message}`, { cause: err });
  }
  return parseConfigText(file, text, schema);
}

/** Relative paths in a config file are relative to that file's folder. */
export function resolveFromConfig(configFile: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(configFile), path);
}
