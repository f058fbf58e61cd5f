import { LifelineError, type ErrorCode } from '../errors.js';

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
