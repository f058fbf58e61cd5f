/**
 * The config reader's entry: a short-lived child process started by `loadConfigFile` or
 * `renderConfigFile`. It reads, parses and validates one config file and sends back the plain
 * validated object (or checks a value and sends back its YAML text), or the error as data, then
 * exits. Everything yaml and zod allocate for it goes back to the system with the
 * process.
 */
import { isLifelineError } from '../errors.js';
import { ConfigError } from './config-error.js';
import { configSchemas } from './config-kinds.js';
import { parseConfigFile, renderConfigText } from './config-parse.js';
import type { ConfigReaderReply, ConfigReaderRequest } from './config-loader.js';

async function answer(request: ConfigReaderRequest): Promise<ConfigReaderReply> {
  try {
    const schema = configSchemas[request.kind];
    if ('render' in request) return { ok: true, config: renderConfigText(request.file, request.render, schema) };
    return { ok: true, config: await parseConfigFile(request.file, schema) };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problems: err.problems };
    if (isLifelineError(err)) return { ok: false, code: err.code, message: err.message };
    return { ok: false, message: `${request.file}: ${(err as Error).message}` };
  }
}

process.once('message', (request: ConfigReaderRequest) => {
  void answer(request).then((reply) => process.send?.(reply, () => process.disconnect()));
});
