import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LifelineError } from '@lifeline/shared';
import ssh2 from 'ssh2';
import { openShell as shell } from './testing/client-helpers.js';
import { ALICE_PASSWORD, connectClient, startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

let relay: TestRelay;
const clients: ssh2.Client[] = [];

beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay.close();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.end();
  relay.broker.refuse = () => undefined;
});

async function login(config: ssh2.ConnectConfig): Promise<ssh2.Client> {
  const client = await connectClient(relay, config);
  clients.push(client);
  return client;
}

function failedLogin(config: ssh2.ConnectConfig): Promise<Error> {
  return login(config).then(
    () => {
      throw new Error('login unexpectedly succeeded');
    },
    (err: Error) => err,
  );
}

describe('people logging in', () => {
  it('accepts the right password', async () => {
    await login({ username: 'alice', password: ALICE_PASSWORD });
    const success = await relay.waitForLog('auth.success', { user: 'alice', method: 'password' });
    expect(success.peer).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('gives the same answer for a wrong password and an unknown user', async () => {
    const wrong = await failedLogin({ username: 'alice', password: 'nope' });
    const unknown = await failedLogin({ username: 'mallory', password: 'nope' });
    expect(wrong.message).toBe('All configured authentication methods failed');
    expect(unknown.message).toBe(wrong.message);
    expect((wrong as Error & { level?: string }).level).toBe((unknown as Error & { level?: string }).level);
  });

  it('logs failures with user, peer, method and reason, never the password', async () => {
    await failedLogin({ username: 'alice', password: 'hunter2-secret' });
    const failure = await relay.waitForLog('auth.failure', { user: 'alice', reason: 'wrong-password' });
    expect(failure).toMatchObject({ method: 'password', peer: expect.stringMatching(/^127\.0\.0\.1:/) });
    expect(JSON.stringify(relay.logs)).not.toContain('hunter2-secret');
  });

  it('asks one hidden Password: prompt for keyboard-interactive and accepts the right answer', async () => {
    const prompts: Array<{ prompt: string; echo?: boolean }> = [];
    const client = new ssh2.Client();
    clients.push(client);
    client.on('keyboard-interactive', (_name, _instructions, _lang, asked, finish) => {
      prompts.push(...asked);
      finish([ALICE_PASSWORD]);
    });
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve).once('error', reject);
      client.connect({
        host: relay.host,
        port: relay.port,
        username: 'alice',
        tryKeyboard: true,
        authHandler: ['keyboard-interactive'],
        hostVerifier: (key: Buffer) => key.equals(relay.hostKeyBlob),
      });
    });
    expect(prompts).toEqual([{ prompt: 'Password: ', echo: false }]);
    await relay.waitForLog('auth.success', { user: 'alice', method: 'keyboard-interactive' });
  });

  it('refuses a wrong keyboard-interactive answer', async () => {
    let asked = 0;
    const client = new ssh2.Client();
    client.on('keyboard-interactive', (_name, _instructions, _lang, _prompts, finish) => {
      asked++;
      finish(['wrong']);
    });
    const err = await new Promise<Error>((resolve) => {
      client.once('ready', () => resolve(new Error('login unexpectedly succeeded'))).once('error', resolve);
      client.connect({
        host: relay.host,
        port: relay.port,
        username: 'alice',
        tryKeyboard: true,
        authHandler: ['keyboard-interactive'],
        hostVerifier: (key: Buffer) => key.equals(relay.hostKeyBlob),
      });
    });
    client.end();
    expect(asked).toBe(1);
    expect(err.message).toBe('All configured authentication methods failed');
  });

  it('accepts an authorised key', async () => {
    await login({ username: 'bob', privateKey: relay.keys.bob.privateKey });
    await relay.waitForLog('auth.success', { user: 'bob', method: 'publickey' });
  });

  it('refuses a key that is not authorised for that user', async () => {
    expect((await failedLogin({ username: 'alice', privateKey: relay.keys.bob.privateKey })).message).toMatch(
      /authentication methods failed/,
    );
    expect((await failedLogin({ username: 'bob', privateKey: relay.keys.stranger.privateKey })).message).toMatch(
      /authentication methods failed/,
    );
  });

  it('refuses a password for a user who has only keys', async () => {
    expect((await failedLogin({ username: 'bob', password: 'anything' })).message).toMatch(/authentication methods failed/);
    await relay.waitForLog('auth.failure', { user: 'bob', reason: 'user-has-no-password' });
  });

  it('refuses people who log in with the agent name, even with an agent key, by password', async () => {
    expect((await failedLogin({ username: 'lifeline-agent', password: ALICE_PASSWORD })).message).toMatch(/authentication methods failed/);
  });

  it('refuses login names whose third part is not watch', async () => {
    expect((await failedLogin({ username: 'alice:dev1:x', password: ALICE_PASSWORD })).message).toMatch(/authentication methods failed/);
  });
});

describe('a person session', () => {
  it('reaches the broker with user, device from USER:DEVICE, session id, peer and terminal', async () => {
    const client = await login({ username: 'alice:dev2', password: ALICE_PASSWORD });
    await shell(client);
    const attachment = await relay.broker.until(() => relay.broker.attachments.find((a) => a.request.deviceId === 'dev2'));
    expect(attachment.request).toMatchObject({
      person: { user: 'alice', peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/), attachAs: 'participant' },
      deviceId: 'dev2',
      term: { name: 'xterm-256color', size: { cols: 100, rows: 30 } },
    });
    expect(attachment.request.person.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    // One immutable value, made at the accepted login.
    expect(Object.isFrozen(attachment.request.person)).toBe(true);
  });

  it('asks the broker for a read-only attachment on USER:DEVICE:watch', async () => {
    const client = await login({ username: 'alice:dev2:watch', password: ALICE_PASSWORD });
    await shell(client);
    const attachment = await relay.broker.until(() => relay.broker.observers.find((a) => a.request.person.attachAs === 'observer'));
    expect(attachment.request).toMatchObject({ person: { user: 'alice', attachAs: 'observer' }, deviceId: 'dev2' });
  });

  it('carries keystrokes to the console and output back', async () => {
    const client = await login({ username: 'alice', password: ALICE_PASSWORD });
    const out = await shell(client);
    const channel = out.channel;
    channel.write('hello\r');
    await out.waitFor('hello\r');
    const attachment = relay.broker.attachments.at(-1)!;
    expect(attachment.request.deviceId).toBeUndefined();
    expect(attachment.inputText).toBe('hello\r');
  });

  it('forwards window changes to the attachment', async () => {
    const client = await login({ username: 'alice', password: ALICE_PASSWORD });
    const out = await shell(client);
    const channel = out.channel;
    channel.write('x');
    await out.waitFor('x');
    channel.setWindow(50, 132, 0, 0);
    const attachment = relay.broker.attachments.at(-1)!;
    await relay.broker.until(() => attachment.resizes.length > 0);
    expect(attachment.resizes).toEqual([{ cols: 132, rows: 50 }]);
  });

  it('detaches when the person closes the channel', async () => {
    const client = await login({ username: 'alice', password: ALICE_PASSWORD });
    const out = await shell(client);
    const channel = out.channel;
    channel.write('x');
    await out.waitFor('x');
    const attachment = relay.broker.attachments.at(-1)!;
    client.end();
    await relay.broker.until(() => attachment.detachedWith);
  });

  it('shows a ROUTE error as one line and ends with exit status 1', async () => {
    relay.broker.refuse = () => new LifelineError('ROUTE_DEVICE_UNAVAILABLE', 'lifeline: device nope is not available to alice.');
    const client = await login({ username: 'alice:nope', password: ALICE_PASSWORD });
    const out = await shell(client);
    expect(await out.exit).toBe(1);
    await out.closed;
    expect(out.text()).toBe('lifeline: device nope is not available to alice.\r\n');
  });

  it('ends with the exit status the broker asks for', async () => {
    const client = await login({ username: 'alice', password: ALICE_PASSWORD });
    const out = await shell(client);
    const attachment = await relay.broker.until(() => relay.broker.attachments.at(-1));
    attachment.terminal.notice('the relay is shutting down.');
    attachment.terminal.end(0);
    expect(await out.exit).toBe(0);
    expect(out.text()).toBe('[lifeline] the relay is shutting down.\r\n');
  });

  it('passes every byte through untouched without a pty, escape key included', async () => {
    const client = await login({ username: 'alice', password: ALICE_PASSWORD });
    const out = await shell(client, false);
    const channel = out.channel;
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    channel.write(all);
    const attachment = await relay.broker.until(() => relay.broker.attachments.at(-1));
    await relay.broker.until(() => Buffer.concat(attachment.inputs).length >= 256);
    expect(Buffer.concat(attachment.inputs).toString('hex')).toBe(all.toString('hex'));
    expect(attachment.request.term).toBeUndefined();
    expect(attachment.breaks).toEqual([]);
    await out.waitFor('\xff');
  });

  it('reports a full channel through write() and calls onceDrain when the person reads again', async () => {
    const client = await login({ username: 'alice', password: ALICE_PASSWORD });
    const out = await shell(client);
    const attachment = await relay.broker.until(() => relay.broker.attachments.at(-1));
    out.channel.pause();
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let writes = 0;
    // ssh2 buffers up to 2 MiB past the SSH window; far less than 200 chunks (12.5 MiB).
    while (attachment.terminal.write(chunk)) {
      writes++;
      expect(writes).toBeLessThan(200);
    }
    const drained = new Promise<void>((resolve) => attachment.terminal.onceDrain(resolve));
    out.channel.resume();
    await drained;
  });

  it('holds further keystrokes back until the console has taken the previous ones', async () => {
    const client = await login({ username: 'alice', password: ALICE_PASSWORD });
    const out = await shell(client, false);
    const attachment = await relay.broker.until(() => relay.broker.attachments.at(-1));
    let release!: () => void;
    attachment.inputGate = new Promise((resolve) => (release = resolve));
    out.channel.write('first');
    await relay.broker.until(() => attachment.inputs.length === 1);
    out.channel.write('second');
    await new Promise((r) => setTimeout(r, 200));
    expect(attachment.inputText).toBe('first');
    attachment.inputGate = undefined;
    release();
    await relay.broker.until(() => attachment.inputText === 'firstsecond');
  });
});
