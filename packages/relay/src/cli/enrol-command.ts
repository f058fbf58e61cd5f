import { parseArgs } from 'node:util';
import { ExitCode, isConfigError, isLifelineError, renderEnrolmentFile, writePrivateFile, type EnrolmentFile } from '@lifeline/shared';
import { adminRequest } from '../admin/admin-client.js';
import { adminSocketPath } from './admin-query.js';
import { osCaller } from './os-caller.js';
import type { CommandIo } from './recordings-command.js';

const enrolUsage = `Usage: lifeline-relay enrol DEVICE [--ttl 24h] [--labels site=tokyo,kind=router] [--out FILE]
                           [--relay host:port] [--console /dev/serial/by-id/...] [--config relay.yaml | --socket PATH]
Creates DEVICE if needed and a one-time enrolment token (valid --ttl, default enrolment.tokenTtl),
prints the token and writes the enrolment file (mode 0600; default DEVICE-enrol.yaml) to copy onto
the Pi's boot partition as lifeline-enrol.yaml. The relay address comes from --relay or
enrolment.relayAddress in relay.yaml, the Pi's status LED from enrolment.status.
`;

const stateUsage = (verb: string, what: string) => `Usage: lifeline-relay ${verb} DEVICE [--config relay.yaml | --socket PATH]
${what}
`;

/** `lifeline-relay enrol DEVICE`: exit 0 with the file written, 1 if the relay refused, 64 bad usage, 73 file not written, 78 bad config. */
export async function runEnrol(args: string[], io: CommandIo): Promise<number> {
  const parsed = await parse('enrol', args, io, enrolUsage, {
    ttl: { type: 'string' },
    labels: { type: 'string' },
    out: { type: 'string', short: 'o' },
    relay: { type: 'string' },
    console: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { device, values, socketPath } = parsed;
  let labels: Record<string, string>;
  try {
    labels = parseLabels(values.labels);
  } catch (err) {
    io.stderr.write(`enrol: ${(err as Error).message}\n`);
    return ExitCode.usage;
  }
  const answer = await ask('enrol', io, socketPath, { command: 'enrol', device, ttl: values.ttl, labels, by: osCaller() });
  if (answer === undefined) return ExitCode.crash;
  const { token, hostKey, relayAddress, status, expiresAt, created } = answer as {
    token: string;
    hostKey: string;
    relayAddress?: string;
    status?: EnrolmentFile['status'];
    expiresAt: string;
    created: boolean;
  };
  const address = values.relay ?? relayAddress;
  const match = address === undefined ? null : /^([^\s:]+):([0-9]{1,5})$/.exec(address);
  if (!match) {
    io.stderr.write(
      `enrol: the relay address is unknown: give --relay host:port or set enrolment.relayAddress in relay.yaml (token made, not written: ${token})\n`,
    );
    return ExitCode.usage;
  }
  const out = values.out ?? `${device}-enrol.yaml`;
  const text = renderEnrolmentFile({
    relay: { host: match[1]!, port: Number(match[2]), hostKey },
    device,
    token,
    ...(values.console ? { console: values.console } : {}),
    ...(status ? { status } : {}),
  });
  try {
    await writePrivateFile(out, text);
  } catch (err) {
    // The token is made: say it, so the operator can still write the file by hand.
    io.stderr.write(`enrol: cannot write ${out}: ${(err as Error).message} (token made, not written: ${token})\n`);
    return ExitCode.cantCreate;
  }
  io.stdout.write(
    `${created ? 'created device ' + device + '; ' : ''}enrolment token for ${device} (valid until ${expiresAt}):\n${token}\n` +
      `wrote ${out} (mode 0600): copy it to the Pi's boot partition as lifeline-enrol.yaml\n`,
  );
  return ExitCode.ok;
}

/** `lifeline-relay approve DEVICE`. */
export function runApprove(args: string[], io: CommandIo): Promise<number> {
  return runStateChange(
    'approve',
    args,
    io,
    'Approves the pending enrolled agent of DEVICE (enrolment.approve: manual); it comes online at its next poll.',
  );
}

/** `lifeline-relay revoke DEVICE`. */
export function runRevoke(args: string[], io: CommandIo): Promise<number> {
  return runStateChange(
    'revoke',
    args,
    io,
    "Revokes DEVICE's enrolled agent: its tunnel closes at once and its key is refused from then on.",
  );
}

async function runStateChange(verb: 'approve' | 'revoke', args: string[], io: CommandIo, what: string): Promise<number> {
  const parsed = await parse(verb, args, io, stateUsage(verb, what), {});
  if (typeof parsed === 'number') return parsed;
  const answer = await ask(verb, io, parsed.socketPath, { command: verb, device: parsed.device, by: osCaller() });
  if (answer === undefined) return ExitCode.crash;
  io.stdout.write(`${parsed.device}: agent ${verb === 'approve' ? 'approved' : 'revoked'}\n`);
  return ExitCode.ok;
}

type Options = Record<string, { type: 'string'; short?: string }>;

async function parse(
  name: string,
  args: string[],
  io: CommandIo,
  usage: string,
  options: Options,
): Promise<number | { device: string; values: Record<string, string | undefined>; socketPath: string }> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { ...options, config: { type: 'string', short: 'c' }, socket: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    io.stderr.write(`${name}: ${(err as Error).message}\n\n${usage}`);
    return ExitCode.usage;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    io.stdout.write(usage);
    return ExitCode.ok;
  }
  const [device, extra] = parsed.positionals;
  if (device === undefined || extra !== undefined) {
    io.stderr.write(`${name}: give one DEVICE\n\n${usage}`);
    return ExitCode.usage;
  }
  try {
    const socketPath = await adminSocketPath(values);
    return { device, values: values as Record<string, string | undefined>, socketPath };
  } catch (err) {
    if (!isConfigError(err)) throw err;
    io.stderr.write(`${name}: ${(err as Error).message}\n`);
    return ExitCode.badConfig;
  }
}

async function ask(name: string, io: CommandIo, socketPath: string, request: { command: string; [k: string]: unknown }): Promise<unknown> {
  try {
    return await adminRequest(socketPath, request);
  } catch (err) {
    if (!isLifelineError(err)) throw err;
    io.stderr.write(`${name}: ${err.message}\n`);
    return undefined;
  }
}

/** `site=tokyo,kind=router` as an object; throws for anything else. */
export function parseLabels(text: string | undefined): Record<string, string> {
  if (text === undefined || text === '') return {};
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)=([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(pair);
    if (!m) throw new Error(`--labels: "${pair}" is not name=value`);
    labels[m[1]!] = m[2]!;
  }
  return labels;
}
