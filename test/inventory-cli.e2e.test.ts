import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../packages/relay/src/ssh/password-hash.js';
import { LifelineSite, cheapScrypt, users } from './support/lifeline-site.js';
import { openSshConsole } from './support/openssh-console.js';
import { requireProgram } from './support/programs.js';
import { relayCli } from './support/relay-cli.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

/**
 * `lifeline-relay user ...` on a running relay (real processes): a person added from the command
 * line logs in with the real OpenSSH client at once, and removing them ends their session with
 * one line; relay.yaml's people stay the file's, also after a reload added them.
 */
describe('people managed from the command line on a running relay', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let site: LifelineSite;

  beforeAll(async () => {
    requireProgram('ssh');
    dir = await makeTempDir('e2e-inventory-cli');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
  });
  afterAll(async () => {
    await site?.stop();
    await dir?.remove();
  });

  const socket = () => ['--socket', join(dir.path, 'relay.sock')];

  it('user add (password on stdin): the person logs in with OpenSSH and reaches a device without a restart; user remove ends the session with one line', async () => {
    const added = await relayCli(['user', 'add', 'frank', '--device', 'rtr-1', ...socket()], 'frank-secret\n');
    expect(added).toMatchObject({ code: 0, stdout: 'added frank\n' });
    expect((await relayCli(['user', 'list', ...socket()])).stdout).toMatch(/^frank\s+engineer\s+rtr-1\s+yes\s+0\s+store$/m);

    const frank = await openSshConsole({
      dir: dir.path,
      port: site.port,
      login: '127.0.0.1',
      password: 'frank-secret',
      args: ['-tt', '-l', 'frank:rtr-1'],
    });
    await frank.waitForOutput('connected to rtr-1');
    frank.write('show version\r');
    await frank.waitForOutput('Configuration register');
    // Someone else's session, which the removal must not touch.
    const alice = await openConsole({ port: site.port, user: 'alice', password: users.alice.password });
    await alice.waitForOutput('connected to rtr-1');

    expect(await relayCli(['user', 'remove', 'frank', ...socket()])).toMatchObject({ code: 0, stdout: 'removed frank\n' });
    const notice = '[lifeline] your account was removed from this relay; the session ends.';
    await frank.waitForOutput(notice);
    expect(await frank.closed).not.toBe(0);
    expect(frank.output().split(notice)).toHaveLength(2);
    expect(
      frank
        .output()
        .slice(frank.output().indexOf(notice) + notice.length)
        .trim(),
    ).toBe('');

    alice.write('show version\r');
    await waitFor('alice still served', () => alice.output().split('Configuration register').length - 1 >= 2 || undefined);
    alice.end();
    await alice.closed;
    expect(site.relay.logs.filter((l) => l.event === 'relay.listening')).toHaveLength(1);
    expect(site.relay.logs.find((l) => l.event === 'inventory.user-removed')).toMatchObject({ user: 'frank' });
  }, 60_000);

  it('refuses to change from the command line a person a reload added to relay.yaml: "edit relay.yaml"', async () => {
    const file = site.relayConfigFile;
    const line = `  - { name: gina, password: "${await hashPassword('gina-secret', cheapScrypt)}", devices: [rtr-1] }`;
    await writeFile(file, (await readFile(file, 'utf8')).replace('users:\n', `users:\n${line}\n`));
    expect(await relayCli(['reload', ...socket()])).toMatchObject({ code: 0, stdout: 'reloaded: users +gina; devices unchanged\n' });

    const passwd = await relayCli(['user', 'passwd', 'gina', ...socket()], 'other-secret\n');
    expect(passwd.code).toBe(1);
    expect(passwd.stderr).toContain(`user gina is declared in ${file}: edit ${file} (and reload) to change it`);
    const role = await relayCli(['user', 'set-role', 'gina', 'admin', ...socket()]);
    expect(role.code).toBe(1);
    expect(role.stderr).toContain(`edit ${file}`);
    expect((await relayCli(['user', 'remove', 'gina', ...socket()])).stderr).toContain(`edit ${file}`);
    expect((await relayCli(['user', 'list', ...socket()])).stdout).toMatch(/^gina\s+engineer\s+rtr-1\s+yes\s+0\s+relay\.yaml$/m);
    // relay.yaml's password still works, the refused one does not.
    const gina = await openConsole({ port: site.port, user: 'gina', password: 'gina-secret' });
    await gina.waitForOutput('connected to rtr-1');
    gina.end();
    await gina.closed;
  }, 60_000);
});
