import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LifelineError, type ErrorCode } from '../errors.js';
import { shareRepeatedStrings } from './shared-strings.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import type { ConfigKind, ConfigOf } from './config-kinds.js';

export { ConfigError, formatKeyPath, formatProblem, type ConfigProblem } from './config-error.js';
export type { ConfigKind, ConfigOf } from './config-kinds.js';

/**
 * What `loadConfigFile` (read `file`) or `renderConfigFile` (check `render` and make its YAML text
 * for `file`) asks the reader process.
 */
export interface ConfigReaderRequest {
  file: string;
  kind: ConfigKind;
  render?: unknown;
}

/** What the reader answers: the validated config (or rendered text), or the error as plain data. */
export type ConfigReaderReply =
  | { ok: true; config: unknown }
  | { ok: false; problems: ConfigProblem[] }
  | { ok: false; code: ErrorCode; message: string }
  | { ok: false; code?: undefined; message: string };

/**
 * The reader's script. Tests run this module from its TypeScript source, where no compiled
 * reader sits beside it: they use the package's build (`tsc -b` comes before tests), the same code.
 */
const readerScript = fileURLToPath(
  import.meta.url.endsWith('.ts')
    ? new URL('../../dist/config/config-reader-process.js', import.meta.url)
    : new URL('./config-reader-process.js', import.meta.url),
);

/**
 * Reads, parses and validates a config file of the given kind; resolves to the plain, defaulted
 * config. Rejects with LifelineError CONFIG_UNREADABLE (`file: cannot read config: why`) or a
 * ConfigError listing every problem as `file: key: problem`; any other failure (the reader could
 * not start or died) is a plain Error naming the file.
 *
 * The work happens in a short-lived child process running the same Node.js: parsing a large
 * relay.yaml builds a YAML document model and zod's intermediate objects, hundreds of MiB for
 * 10,000 devices, and a V8 heap that grew for them keeps that memory (a worker_threads Worker does
 * not help on Node.js 24: its isolate's pages stay in the process after it ends). Only the plain
 * validated object comes back (structured clone), and the caller never runs yaml for it.
 */
export async function loadConfigFile<K extends ConfigKind>(file: string, kind: K): Promise<ConfigOf[K]> {
  // The clone copies every string: 10,000 users with one key would hold 10,000 copies of it.
  return shareRepeatedStrings((await askReader({ file, kind })) as ConfigOf[K]);
}

/**
 * The YAML text of a config value of the given kind that a program writes itself as `file` (the
 * agent's agent.yaml after enrolment): checked against the kind's schema by the reader process,
 * so the caller loads neither zod nor yaml. Rejects with a ConfigError listing every problem as
 * `file: key: problem`, or a plain Error when the reader could not start or died.
 */
export async function renderConfigFile(file: string, kind: ConfigKind, value: unknown): Promise<string> {
  return (await askReader({ file, kind, render: value })) as string;
}

/** One request to a fresh reader process; resolves to its answer's value. */
function askReader(request: ConfigReaderRequest): Promise<unknown> {
  const { file } = request;
  return new Promise((resolve, reject) => {
    let reply: ConfigReaderReply | undefined;
    const reader = fork(readerScript, [], {
      serialization: 'advanced',
      // Not the caller's flags (an inspector port, a heap limit); stdout is the caller's log.
      execArgv: [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    reader.once('message', (message: ConfigReaderReply) => {
      reply = message;
    });
    reader.once('error', (err) => {
      reject(new Error(`${file}: cannot start the config reader: ${err.message}`, { cause: err }));
    });
    reader.once('close', (exitCode, signal) => {
      if (!reply) return reject(new Error(`${file}: the config reader stopped (${signal ?? `exit ${exitCode}`}) without an answer`));
      if (reply.ok) return resolve(reply.config);
      if ('problems' in reply) return reject(new ConfigError(reply.problems));
      if (reply.code) return reject(new LifelineError(reply.code, reply.message));
      reject(new Error(reply.message));
    });
    reader.send(request);
  });
}
