import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LifelineError, renderConfigFile, writePrivateFile, type EnrolmentFile } from '@lifeline/shared/core';

/** Where USB serial adapters appear under stable names. */
export const SERIAL_BY_ID = '/dev/serial/by-id';

/**
 * The console to write into agent.yaml: the file's hint, else the one adapter in `byIdDir`.
 * Throws LifelineError CONSOLE_NOT_PRESENT when there is none or more than one (the file must say).
 */
export async function enrolledConsolePath(file: EnrolmentFile, byIdDir = SERIAL_BY_ID): Promise<string> {
  if (file.console !== undefined) return file.console;
  const names = await readdir(byIdDir).catch(() => [] as string[]);
  if (names.length === 1) return join(byIdDir, names[0]!);
  throw new LifelineError(
    'CONSOLE_NOT_PRESENT',
    names.length === 0
      ? `no serial adapter in ${byIdDir} and the enrolment file names no console`
      : `${names.length} serial adapters in ${byIdDir}; name one as console in the enrolment file`,
  );
}

/**
 * agent.yaml for an enrolled Pi: the relay and its pinned host key, the key file, the device and
 * its serial console and the enrolment file's status LED and hook; checked with the agent's own
 * schema (by the config reader process, renderConfigFile) before it is written. Written by
 * writePrivateFile (mode 0600, temporary file synced and renamed over the target), so a power
 * cut leaves the old file or the new one, never half of one.
 */
export async function writeEnrolledAgentConfig(target: string, file: EnrolmentFile, keyFile: string, consolePath: string): Promise<void> {
  const config = {
    relay: { host: file.relay.host, port: file.relay.port, hostKey: file.relay.hostKey },
    device: file.device,
    keyFile,
    console: { type: 'serial', path: consolePath },
    // The LED the site saw during enrolment goes on showing the agent's state.
    status: file.status,
  };
  const text = `# Written by lifeline-agent at enrolment (${file.device}).\n${await renderConfigFile(target, 'agent', config)}`;
  await writePrivateFile(target, text);
}
