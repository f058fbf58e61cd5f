import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENROL_LOGIN_NAME, relayConfigSchema, silentLogger } from '@lifeline/shared';
import { freePort } from '@lifeline/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestEnrolment } from '../packages/edge-agent/src/enrol/enrol-request.js';
import { RelayDialer } from '../packages/edge-agent/src/tunnel/relay-dialer.js';
import { adminRequest } from '../packages/relay/src/admin/admin-client.js';
import { startRelay, type RunningRelay } from '../packages/relay/src/relay.js';
import { generateUsableKeyPair } from '../packages/relay/src/ssh/testing/relay-test-harness.js';

/** The agent's side of enrolment (RelayDialer + requestEnrolment) against a real relay on loopback. */
describe("the agent's enrolment request", () => {
  let dir: string;
  let relay: RunningRelay;
  let socket: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'enrol-request-'));
    socket = join(dir, 'admin.sock');
    const config = relayConfigSchema.parse({ listen: { host: '127.0.0.1', port: 0 }, stateDir: dir, adminSocket: socket });
    relay = await startRelay(config, join(dir, 'relay.yaml'), silentLogger());
  });
  afterAll(async () => {
    await relay.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const dialer = (hostKey: string, port = relay.address.port) =>
    new RelayDialer({
      relay: { host: '127.0.0.1', port, hostKey, alternates: [] },
      privateKey: Buffer.from(generateUsableKeyPair('pi').private),
      username: ENROL_LOGIN_NAME,
      connectTimeoutMs: 3_000,
      keepalive: { intervalMs: 6_000, countMax: 2 },
      logger: silentLogger(),
    });
  const target = () => ({ host: '127.0.0.1', port: relay.address.port });

  it('enrols with a fresh token, and the same token is refused as used', async () => {
    const { token } = (await adminRequest(socket, { command: 'enrol', device: 'rtr-a', by: 'os:test' })) as { token: string };
    expect(await requestEnrolment(dialer(relay.hostKeyFingerprint), target(), { device: 'rtr-a', token }, 5_000)).toEqual({
      result: 'enrolled',
    });
    expect(await requestEnrolment(dialer(relay.hostKeyFingerprint), target(), { device: 'rtr-a', token }, 5_000)).toEqual({
      result: 'refused',
      reason: 'used',
    });
  });

  it('refuses a token made for another device', async () => {
    const { token } = (await adminRequest(socket, { command: 'enrol', device: 'rtr-b', by: 'os:test' })) as { token: string };
    expect(await requestEnrolment(dialer(relay.hostKeyFingerprint), target(), { device: 'rtr-a', token }, 5_000)).toEqual({
      result: 'refused',
      reason: 'other-device',
    });
  });

  it('stops at a relay whose host key is not the pinned one, before sending the token', async () => {
    const wrong = `SHA256:${'A'.repeat(43)}`;
    await expect(requestEnrolment(dialer(wrong), target(), { device: 'rtr-a', token: 'f'.repeat(32) }, 5_000)).rejects.toMatchObject({
      code: 'TUNNEL_HOSTKEY_MISMATCH',
    });
  });

  it('says the relay cannot be reached when nothing listens', async () => {
    const port = await freePort();
    await expect(
      requestEnrolment(
        dialer(relay.hostKeyFingerprint, port),
        { host: '127.0.0.1', port },
        { device: 'rtr-a', token: 'f'.repeat(32) },
        5_000,
      ),
    ).rejects.toMatchObject({ code: 'TUNNEL_CONNECT_FAILED' });
  });
});
