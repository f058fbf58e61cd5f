import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { relayBin } from './lifeline-process.js';

const run = promisify(execFile);

/**
 * Runs the real `lifeline-relay enrol DEVICE` against a running relay's admin socket, writing the
 * enrolment file to `out` (relay 127.0.0.1:`port`, console /dev/ttyS99); resolves with its stdout
 * (which holds the token).
 */
export async function enrolWithRelayCli(options: { socket: string; port: number; device: string; out: string }): Promise<string> {
  const args = ['enrol', options.device, '--socket', options.socket, '--relay', `127.0.0.1:${options.port}`];
  const { stdout } = await run(process.execPath, [relayBin, ...args, '--console', '/dev/ttyS99', '--out', options.out]);
  return stdout;
}
