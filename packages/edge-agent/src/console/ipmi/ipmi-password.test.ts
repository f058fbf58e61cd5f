import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLifelineError, type IpmiSolConsoleConfig } from '@lifeline/shared';
import { loadIpmiSecret } from './ipmi-password.js';
import { ipmitoolCommand } from './ipmitool-command.js';

const base: IpmiSolConsoleConfig = {
  type: 'ipmi-sol',
  host: '10.0.0.20',
  port: 623,
  user: 'lifeline',
  cipherSuite: 3,
  privilege: 'ADMINISTRATOR',
};

describe('loadIpmiSecret', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-ipmi-pw-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(text: string, mode = 0o600): Promise<string> {
    const path = join(dir, 'pw');
    await writeFile(path, text);
    await chmod(path, mode);
    return path;
  }

  async function failure(config: IpmiSolConsoleConfig, env: NodeJS.ProcessEnv = {}): Promise<Error> {
    const err = await loadIpmiSecret(config, env, 'POWER_FAILED').then(
      () => new Error('resolved'),
      (e: Error) => e,
    );
    expect(isLifelineError(err, 'POWER_FAILED')).toBe(true);
    return err;
  }

  it('uses a password file of mode 0600, and the env only without one', async () => {
    const path = await file('s3cret\n');
    expect(await loadIpmiSecret({ ...base, passwordFile: path }, { LIFELINE_IPMI_PASSWORD: 'other' }, 'CONSOLE_OPEN_FAILED')).toEqual({
      kind: 'file',
      path,
    });
    expect(await loadIpmiSecret(base, { LIFELINE_IPMI_PASSWORD: 'other' }, 'CONSOLE_OPEN_FAILED')).toEqual({ kind: 'env', value: 'other' });
  });

  it('refuses a file that group or others may read, saying how to fix it', async () => {
    for (const mode of [0o640, 0o604, 0o644]) {
      const path = await file('s3cret\n', mode);
      expect((await failure({ ...base, passwordFile: path })).message).toBe(
        `password file ${path} has mode ${mode.toString(8)}; it must not be readable by group or others (chmod 600 ${path})`,
      );
    }
  });

  it('says when the file is missing, empty, or holds more than IPMI allows', async () => {
    expect((await failure({ ...base, passwordFile: join(dir, 'nope') })).message).toMatch(/does not exist/);
    expect((await failure({ ...base, passwordFile: await file('\nsecond line\n') })).message).toMatch(/is empty/);
    expect((await failure({ ...base, passwordFile: await file('x'.repeat(21)) })).message).toMatch(/longer than the 20 bytes/);
  });

  it('says where to put a password when there is none', async () => {
    expect((await failure(base, {})).message).toBe(
      'no BMC password for 10.0.0.20: set passwordFile in the console config or the env LIFELINE_IPMI_PASSWORD',
    );
  });
});

describe('ipmitoolCommand', () => {
  it('always names the cipher suite and never puts the password in the arguments', () => {
    const command = ipmitoolCommand({ ...base, cipherSuite: 17 }, { kind: 'env', value: 'hunter2' }, ['sol', 'activate'], {
      env: { PATH: '/usr/bin', LIFELINE_IPMI_PASSWORD: 'hunter2', IPMITOOL_PASSWORD: 'stale' },
    });
    expect(command.file).toBe('ipmitool');
    expect(command.args.join(' ')).toBe('-I lanplus -C 17 -H 10.0.0.20 -p 623 -U lifeline -L ADMINISTRATOR -N 1 -R 2 -E sol activate');
    expect(command.args.join(' ')).not.toContain('hunter2');
    expect(command.env).toEqual({ PATH: '/usr/bin', IPMI_PASSWORD: 'hunter2' });
  });

  it("passes a password file by name and keeps password variables out of ipmitool's environment", () => {
    const command = ipmitoolCommand(base, { kind: 'file', path: '/etc/lifeline/bmc' }, ['chassis', 'power', 'status'], {
      env: { PATH: '/usr/bin', LIFELINE_IPMI_PASSWORD: 'x', IPMI_PASSWORD: 'y' },
      lineBuffered: true,
      verbose: true,
    });
    expect(command.file).toBe('stdbuf');
    expect(command.args.slice(0, 2)).toEqual(['-oL', 'ipmitool']);
    expect(command.args.join(' ')).toContain('-f /etc/lifeline/bmc -v chassis power status');
    expect(command.env).toEqual({ PATH: '/usr/bin' });
  });
});
