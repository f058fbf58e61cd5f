import { mkdtemp, rm } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AGENT_LOGIN_NAME,
  ENROL_LOGIN_NAME,
  ENROL_SUBSYSTEM,
  loadConfigFile,
  parseEnrolAnswer,
  relayConfigSchema,
  type EnrolAnswer,
} from '@lifeline/shared';
import { FakeClock, capturedLogger } from '@lifeline/shared/testing';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { adminRequest } from '../admin/admin-client.js';
import { runEnrol } from '../cli/enrol-command.js';
import { startRelay, type RunningRelay } from '../relay.js';
import { generateUsableKeyPair } from '../ssh/testing/relay-test-harness.js';
import { TOKEN_KEEP_MS, TOKEN_PRUNE_EVERY_MS } from './token-pruning.js';

/** A real relay on port 0; a real ssh2 client enrols, logs in as the agent, and is revoked. */
describe('enrolment through a running relay', () => {
  let dir: string;
  let relay: RunningRelay;
  let socket: string;
  let log: ReturnType<typeof capturedLogger>;

  const start = async (approve: 'auto' | 'manual', clock?: FakeClock, enrolment: Record<string, unknown> = {}) => {
    dir = await mkdtemp(join(tmpdir(), 'relay-enrol-'));
    socket = join(dir, 'admin.sock');
    log = capturedLogger();
    const config = relayConfigSchema.parse({
      listen: { host: '127.0.0.1', port: 0 },
      stateDir: dir,
      adminSocket: socket,
      auth: { failureDelayMs: 0 },
      enrolment: { approve, relayAddress: 'relay.example.net:443', ...enrolment },
    });
    relay = await startRelay(config, join(dir, 'relay.yaml'), log.logger, clock);
  };
  const connect = (username: string, privateKey: string) =>
    new Promise<ssh2.Client>((resolve, reject) => {
      const client = new ssh2.Client();
      client.on('ready', () => resolve(client)).on('error', reject);
      client.connect({ host: '127.0.0.1', port: relay.address.port, username, privateKey, readyTimeout: 5_000 });
    });
  const enrol = async (privateKey: string, request: object): Promise<EnrolAnswer | undefined> => {
    const client = await connect(ENROL_LOGIN_NAME, privateKey);
    try {
      return await new Promise((resolve, reject) => {
        client.subsys(ENROL_SUBSYSTEM, (err, channel) => {
          if (err) return reject(err);
          let text = '';
          channel.on('data', (d: Buffer) => (text += d.toString()));
          channel.on('close', () => resolve(parseEnrolAnswer(text.trim())));
          channel.write(`${JSON.stringify(request)}\n`);
        });
      });
    } finally {
      client.end();
    }
  };
  /** The device's line in `lifeline-relay devices` (the admin socket's answer), once it says `health`. */
  const deviceLine = async (device: string, health: string) => {
    for (let i = 0; i < 200; i++) {
      const list = (await adminRequest(socket, { command: 'devices' })) as Array<Record<string, unknown>>;
      const line = list.find((d) => d.deviceId === device);
      if (line?.health === health) return line;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${device} never showed ${health} in devices`);
  };
  const forward = (client: ssh2.Client, device: string) =>
    new Promise<number>((resolve, reject) => client.forwardIn(device, 0, (err, port) => (err ? reject(err) : resolve(port))));

  afterEach(async () => {
    await relay?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the fleet's status LED (enrolment.status) into the enrolment file, so a new Pi shows its enrolment", async () => {
    await start('auto', undefined, { status: { led: { type: 'sysfs-led', name: 'ACT' } } });
    const out = join(dir, 'pi-01-enrol.yaml');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    expect(await runEnrol(['pi-01', '--socket', socket, '--out', out], { stdout, stderr })).toBe(0);
    // Read as the agent reads it.
    const file = await loadConfigFile(out, 'enrolment');
    expect(file).toMatchObject({
      device: 'pi-01',
      relay: { host: 'relay.example.net', port: 443 },
      status: { led: { type: 'sysfs-led', name: 'ACT' } },
    });
  });

  it('binds a new key with the token, lets it serve its device, refuses the token again, and revoke closes the tunnel', async () => {
    await start('auto');
    const made = (await adminRequest(socket, { command: 'enrol', device: 'rtr-new-01', by: 'os:test' })) as Record<string, unknown>;
    expect(made).toMatchObject({
      deviceId: 'rtr-new-01',
      created: true,
      hostKey: relay.hostKeyFingerprint,
      relayAddress: 'relay.example.net:443',
    });
    const token = made.token as string;
    const pi = generateUsableKeyPair('pi');
    await expect(connect(AGENT_LOGIN_NAME, pi.private)).rejects.toThrow();
    expect(await enrol(pi.private, { device: 'rtr-new-01', token })).toEqual({ result: 'enrolled' });
    expect(await enrol(generateUsableKeyPair('other').private, { device: 'rtr-new-01', token })).toEqual({
      result: 'refused',
      reason: 'used',
    });

    const agent = await connect(AGENT_LOGIN_NAME, pi.private);
    expect(await forward(agent, 'rtr-new-01')).toBeGreaterThan(0);
    await expect(forward(agent, 'rtr-other')).rejects.toThrow();
    const closed = new Promise<void>((resolve) => agent.on('close', () => resolve()));
    await adminRequest(socket, { command: 'revoke', device: 'rtr-new-01', by: 'os:test' });
    await closed;
    await expect(connect(AGENT_LOGIN_NAME, pi.private)).rejects.toThrow();
    expect(await enrol(pi.private, { device: 'rtr-new-01' })).toEqual({ result: 'refused', reason: 'revoked' });
    const events = log.lines.map((l) => l.event);
    expect(events).toEqual(expect.arrayContaining(['agent.enrolled', 'agent.enrol-refused', 'agent.revoked']));
    expect(JSON.stringify(log.lines)).not.toContain(token);
  });

  it('keeps a Pi pending under manual approval until approve', async () => {
    await start('manual');
    const { token } = (await adminRequest(socket, { command: 'enrol', device: 'rtr-new-02', ttl: '1h', by: 'os:test' })) as {
      token: string;
    };
    const pi = generateUsableKeyPair('pi');
    expect(await deviceLine('rtr-new-02', 'offline')).not.toHaveProperty('enrolment');
    expect(await enrol(pi.private, { device: 'rtr-new-02', token })).toEqual({ result: 'pending' });
    expect(await deviceLine('rtr-new-02', 'pending-approval')).toMatchObject({ online: false, enrolment: 'pending' });
    await expect(connect(AGENT_LOGIN_NAME, pi.private)).rejects.toThrow();
    expect(await enrol(pi.private, { device: 'rtr-new-02' })).toEqual({ result: 'pending' });
    await adminRequest(socket, { command: 'approve', device: 'rtr-new-02', by: 'os:test' });
    expect(await enrol(pi.private, { device: 'rtr-new-02' })).toEqual({ result: 'enrolled' });
    const agent = await connect(AGENT_LOGIN_NAME, pi.private);
    expect(await forward(agent, 'rtr-new-02')).toBeGreaterThan(0);
    expect(await deviceLine('rtr-new-02', 'unknown')).toMatchObject({ online: true, enrolment: 'approved' });
    await adminRequest(socket, { command: 'revoke', device: 'rtr-new-02', by: 'os:test' });
    expect(await deviceLine('rtr-new-02', 'revoked')).toMatchObject({ online: false, enrolment: 'revoked' });
    agent.end();
  });

  it('deletes an expired token a week after it expired (the relay schedules it on its clock)', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    await start('auto', clock);
    const { token } = (await adminRequest(socket, { command: 'enrol', device: 'rtr-new-03', ttl: '1h', by: 'os:test' })) as {
      token: string;
    };
    const pi = generateUsableKeyPair('pi');
    await clock.advance(2 * 3_600_000);
    expect(await enrol(pi.private, { device: 'rtr-new-03', token })).toEqual({ result: 'refused', reason: 'expired' });
    // Hour by hour, as the relay runs: each run arms the next once the store answered.
    for (let elapsed = 0; elapsed <= TOKEN_KEEP_MS; elapsed += TOKEN_PRUNE_EVERY_MS) {
      await clock.advance(TOKEN_PRUNE_EVERY_MS);
      await new Promise((r) => setImmediate(r));
    }
    await expect.poll(() => log.lines.find((l) => l.event === 'enrolment.tokens-pruned')).toMatchObject({ removed: 1 });
    expect(await enrol(pi.private, { device: 'rtr-new-03', token })).toEqual({ result: 'refused', reason: 'unknown' });
  });

  it('gives the enrolment user no shell, exec or forwarding', async () => {
    await start('auto');
    const client = await connect(ENROL_LOGIN_NAME, generateUsableKeyPair('pi').private);
    try {
      await expect(
        new Promise((resolve, reject) => client.exec('id', (err, ch) => (err ? reject(err) : ch.on('close', resolve).on('exit', reject)))),
      ).rejects.toBeDefined();
      await expect(forward(client, 'rtr-new-01')).rejects.toThrow();
    } finally {
      client.end();
    }
  });
});
