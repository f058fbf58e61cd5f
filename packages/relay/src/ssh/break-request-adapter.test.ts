import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LifelineError } from '@lifeline/shared';
import type ssh2 from 'ssh2';
import { installBreakRequestAdapter, onBreakRequest } from './break-request-adapter.js';
import { opensshArgs, passwordLogin } from './testing/openssh.js';
import { killAllPeers, missingPeers, spawnPeerOnPty } from './testing/peer-process.js';
import { startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

let relay: TestRelay;

beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay?.close();
});
afterEach(async () => {
  await killAllPeers();
});

// The test that breaks the day an ssh2 upgrade changes the internals the adapter wraps.
describe.skipIf(missingPeers('ssh', '/usr/bin/python3'))('break requests from OpenSSH (~B)', () => {
  async function session() {
    const login = await passwordLogin(relay);
    const before = relay.broker.attachments.length;
    const ssh = spawnPeerOnPty('ssh', opensshArgs(relay, 'alice', login.args), login.env);
    const attachment = await relay.broker.until(() => relay.broker.attachments[before]);
    return { ssh, attachment };
  }

  it('reach the console as a 1000 ms break, and the session carries on', async () => {
    const { ssh, attachment } = await session();
    ssh.write('\r~B');
    await relay.broker.until(() => attachment.breaks.length > 0);
    expect(attachment.breaks).toEqual([1000]);
    // ~B is OpenSSH's, not the device's; and OpenSSH asked for no reply, so none may come.
    ssh.write('after-break\r');
    await ssh.waitForOutput('after-break');
    expect(attachment.inputText).toBe('\rafter-break\r');
    attachment.terminal.end(0);
    expect((await ssh.waitForExit()).code).toBe(0);
  });

  it('tell the person when the device is gone', async () => {
    const { ssh, attachment } = await session();
    attachment.breakError = new LifelineError('ROUTE_DEVICE_OFFLINE', 'lifeline: device dev1 is offline.');
    ssh.write('\r~B');
    await ssh.waitForOutput('[lifeline] BREAK not sent: lifeline: device dev1 is offline.');
    attachment.terminal.end(0);
    await ssh.waitForExit();
  });
});

describe('installBreakRequestAdapter', () => {
  it('fails loudly, naming itself, on a connection without the ssh2 internals it wraps', () => {
    const conn = Object.assign(new EventEmitter(), { _protocol: { _handlers: {} } }) as unknown as ssh2.Connection;
    expect(() => installBreakRequestAdapter(conn)).toThrow(
      /break-request-adapter\.ts: ssh2 internals changed, missing conn\._protocol\._handlers\.CHANNEL_REQUEST/,
    );
  });

  it('refuses to listen on something that is not an ssh2 session', () => {
    expect(() => onBreakRequest(new EventEmitter() as unknown as ssh2.Session, () => undefined)).toThrow(/break-request-adapter\.ts/);
  });
});
