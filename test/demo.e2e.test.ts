import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentBin, relayBin } from './support/lifeline-process.js';
import { openConsole } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

describe('the embedded demo (what `npm start` runs)', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('prints how to connect, and demo/demo reaches the simulated router, BREAK included', async () => {
    const dir = await makeTempDir('demo');
    const child = spawn(process.execPath, [relayBin, 'demo', '--port', '0'], {
      env: { ...process.env, LIFELINE_DEMO_DIR: dir.path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    stop = async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
      await dir.remove();
    };

    const port = Number(
      (
        await waitFor(
          () => `demo banner (got ${out})`,
          () => /relay on 127\.0\.0\.1:(\d+)/.exec(out),
        )
      )[1],
    );
    expect(out).toContain(`ssh -p ${port} demo@127.0.0.1`);
    expect(out).toMatch(/host key: SHA256:[A-Za-z0-9+/]{43}/);

    // The agent is a separate process: wait until the device is online rather than sleeping.
    const c = await waitFor(
      'demo-router online',
      async () => {
        const attempt = await openConsole({ port, user: 'demo', password: 'demo' });
        if (
          !/offline/.test(
            await Promise.race([attempt.waitForOutput(/connected to|offline/, 5_000), attempt.closed.then(() => attempt.output())]),
          )
        )
          return attempt;
        attempt.end();
        return undefined;
      },
      15_000,
      200,
    );
    c.write('show version\r');
    await c.waitForOutput(/lifeline simulated IOS/);
    c.write('\x1db');
    await c.waitForOutput('rommon 1 >');
    c.end();
  });
});

describe('lifeline-agent pubkey', () => {
  it('prints the agent public key for enrolment, creating the key file only with --generate', async () => {
    const dir = await makeTempDir('pubkey');
    try {
      const config = join(dir.path, 'agent.yaml');
      await writeFile(
        config,
        `relay: { host: relay.example.com, hostKey: "SHA256:${'A'.repeat(43)}" }\ndevice: rtr-1\nstateDir: state\nkeyFile: agent_key\nconsole: { type: sim }\n`,
      );
      const missing = spawnSync(process.execPath, [agentBin, 'pubkey', '--config', config]);
      expect(missing.status).toBe(78);
      expect(missing.stderr.toString()).toBe(
        `lifeline-agent: ${config}: keyFile: ${join(dir.path, 'state', 'agent_key')} does not exist (the agent makes it on its first start; or add --generate)\n`,
      );
      expect(existsSync(join(dir.path, 'state'))).toBe(false);
      const first = spawnSync(process.execPath, [agentBin, 'pubkey', '--generate', '--config', config]);
      const second = spawnSync(process.execPath, [agentBin, 'pubkey', '--config', config]);
      expect(first.status, first.stderr.toString()).toBe(0);
      expect(first.stdout.toString()).toMatch(/^ssh-ed25519 AAAA\S+ lifeline-agent@rtr-1\n$/);
      expect(second.stdout.toString()).toBe(first.stdout.toString());
    } finally {
      await dir.remove();
    }
  });
});
