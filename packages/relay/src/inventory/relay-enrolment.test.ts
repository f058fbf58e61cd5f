import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AGENT_LOGIN_NAME,
  ENROL_LOGIN_NAME,
  ENROL_SUBSYSTEM,
  parseEnrolAnswer,
  relayConfigSchema,
  type EnrolAnswer,
} from '@lifeline/shared';
import { capturedLogger } from '@lifeline/shared/testing';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { adminRequest } from '../admin/admin-client.js';
import { startRelay, type RunningRelay } from '../relay.js';
import { generateUsableKeyPair } from '../ssh/testing/relay-test-harness.js';

/** A real relay on port 0; a real ssh2 client enrols, logs in as the agent, and is revoked. */
describe('enrolment through a running relay', () => {
  let dir: string;
  let relay: RunningRelay;
  let socket: string;
  let log: ReturnType<typeof capturedLogger>;

  const start = async (approve: 'auto' | 'manual') => {
    dir = await mkdtemp(join(tmpdir(), 'relay-enrol-'));
    socket = join(dir, 'admin.sock');
    log = capturedLogger();
    const config = relayConfigSchema.parse({
      listen: { host: '127.0.0.1', port: 0 },
      stateDir: dir,
      adminSocket: socket,
      auth: { failureDelayMs: 0 },
      enrolment: { approve, relayAddress: 'relay.example.net:443' },
    });
    relay = await startRelay(config, join(dir, 'relay.yaml'), log.logger);
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
  const forward = (client: ssh2.Client, device: string) =>
    new Promise<number>((resolve, reject) => client.forwardIn(device, 0, (err, port) => (err ? reject(err) : resolve(port))));

  afterEach(async () => {
    await relay?.stop();
    await rm(dir, { recursive: true, force: true });
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
    expect(await enrol(pi.private, { device: 'rtr-new-02', token })).toEqual({ result: 'pending' });
    await expect(connect(AGENT_LOGIN_NAME, pi.private)).rejects.toThrow();
    expect(await enrol(pi.private, { device: 'rtr-new-02' })).toEqual({ result: 'pending' });
    await adminRequest(socket, { command: 'approve', device: 'rtr-new-02', by: 'os:test' });
    expect(await enrol(pi.private, { device: 'rtr-new-02' })).toEqual({ result: 'enrolled' });
    const agent = await connect(AGENT_LOGIN_NAME, pi.private);
    expect(await forward(agent, 'rtr-new-02')).toBeGreaterThan(0);
    agent.end();
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
