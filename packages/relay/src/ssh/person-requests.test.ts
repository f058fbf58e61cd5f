import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LifelineError } from '@lifeline/shared';
import type ssh2 from 'ssh2';
import { openShell, sendBreakRequest } from './testing/client-helpers.js';
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
});

async function alice(): Promise<ssh2.Client> {
  const client = await connectClient(relay, { username: 'alice', password: ALICE_PASSWORD });
  clients.push(client);
  return client;
}

function errorOf(start: (cb: (err: Error | undefined, ...rest: unknown[]) => void) => void): Promise<Error | undefined> {
  return new Promise((resolve) => start((err) => resolve(err)));
}

describe('what a person may not do', () => {
  it('refuses exec', async () => {
    const err = await errorOf((cb) => void (async () => (await alice()).exec('cat /etc/passwd', cb))());
    expect(err?.message).toMatch(/Unable to exec/);
    await relay.waitForLog('session.request.refused', { request: 'exec' });
    expect(JSON.stringify(relay.logs)).not.toContain('/etc/passwd');
  });

  it('refuses the sftp subsystem', async () => {
    const err = await errorOf((cb) => void (async () => (await alice()).sftp(cb))());
    expect(err?.message).toMatch(/Unable to start subsystem: sftp/);
  });

  it('refuses local port forwarding (direct-tcpip)', async () => {
    const err = await errorOf((cb) => void (async () => (await alice()).forwardOut('127.0.0.1', 40000, '127.0.0.1', relay.port, cb))());
    expect(err?.message).toMatch(/open failure/i);
    await relay.waitForLog('person.request.refused', { request: 'direct-tcpip' });
  });

  it('refuses remote port forwarding (tcpip-forward)', async () => {
    const err = await errorOf((cb) => void (async () => (await alice()).forwardIn('dev1', 0, cb))());
    expect(err?.message).toMatch(/Unable to bind to dev1:0/);
    await relay.waitForLog('person.request.refused', { request: 'tcpip-forward' });
  });

  it('serves a second console session on the same connection (ControlMaster) beside the first, under its own session id', async () => {
    const client = await alice();
    const first = await openShell(client);
    first.channel.write('first');
    await first.waitFor('first');
    const attachment = relay.broker.attachments.at(-1)!;
    const second = await openShell(client);
    second.channel.write('second');
    await second.waitFor('second');
    const [a, b] = relay.broker.requests.slice(-2);
    expect(a!.person.sessionId).not.toBe(b!.person.sessionId);
    // The first one is untouched.
    first.channel.write('still here');
    await first.waitFor('still here');
    expect(attachment.detachedWith).toBeUndefined();
  });

  it('allows a new session once the previous one on the connection has ended', async () => {
    const client = await alice();
    const first = await openShell(client);
    const a1 = await relay.broker.until(() => relay.broker.attachments.at(-1));
    a1.terminal.end(0);
    await first.closed;
    const second = await openShell(client);
    second.channel.write('again');
    await second.waitFor('again');
  });
});

describe('break requests (RFC 4335)', () => {
  it('sends the requested length to the console and answers success when asked for a reply', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('x');
    await shell.waitFor('x');
    const attachment = relay.broker.attachments.at(-1)!;
    await expect(sendBreakRequest(shell.channel, 750, true)).resolves.toBe(true);
    expect(attachment.breaks).toEqual([750]);
  });

  it('answers failure when the device is gone', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('x');
    await shell.waitFor('x');
    const attachment = relay.broker.attachments.at(-1)!;
    attachment.breakError = new LifelineError('ROUTE_DEVICE_OFFLINE', 'lifeline: device dev1 is offline.');
    await expect(sendBreakRequest(shell.channel, 0, true)).resolves.toBe(false);
    await shell.waitFor('BREAK not sent: lifeline: device dev1 is offline.');
  });

  it('sends no reply when none is wanted, and still sends the break', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('x');
    await shell.waitFor('x');
    const attachment = relay.broker.attachments.at(-1)!;
    await sendBreakRequest(shell.channel, 0, false);
    // A reply would be taken by the next request's callback: show that request gets its own.
    await expect(sendBreakRequest(shell.channel, 1, true)).resolves.toBe(true);
    expect(attachment.breaks).toEqual([0, 1]);
  });

  it('answers failure for a break that comes before the console is attached', async () => {
    let release!: () => void;
    relay.broker.gate = new Promise((resolve) => (release = resolve));
    try {
      const shell = await openShell(await alice());
      await relay.broker.until(() => relay.broker.requests.length > 0 && relay.broker.requests.at(-1));
      await expect(sendBreakRequest(shell.channel, 500, true)).resolves.toBe(false);
    } finally {
      relay.broker.gate = undefined;
      release();
    }
  });
});

describe('in-band escape (^] by default) on pty sessions', () => {
  it('sends a break for ^] b and says so', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('ab\x1dbcd');
    await shell.waitFor('[lifeline] BREAK sent\r\n');
    const attachment = relay.broker.attachments.at(-1)!;
    await shell.waitFor('cd');
    expect(attachment.inputText).toBe('abcd');
    expect(attachment.breaks).toEqual([undefined]);
  });

  it('starts its own lines on a new line when the device left the cursor mid-line (a prompt)', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('Router>');
    await shell.waitFor('Router>');
    shell.channel.write('\x1d?');
    await shell.waitFor('disconnect');
    expect(shell.text()).toContain('Router>\r\n[lifeline] escape commands');
  });

  it('lists the commands for ^] ?', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('\x1d?');
    await shell.waitFor('disconnect');
    expect(shell.text()).toMatch(/\[lifeline\] escape commands: press \^\], then\r\n/);
  });

  it('disconnects cleanly for ^] .', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('\x1d.');
    expect(await shell.exit).toBe(0);
    const attachment = relay.broker.attachments.at(-1)!;
    await relay.broker.until(() => attachment.detachedWith);
    expect(attachment.detachedWith).toBe('escape disconnect');
  });

  it('asks the console for read-write on ^] t and shows why when it is refused', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('\x1dt');
    const attachment = await relay.broker.until(() => relay.broker.attachments.at(-1)?.takeOvers === 1 && relay.broker.attachments.at(-1));
    attachment.takeOverError = new LifelineError(
      'SESSION_NOT_PERMITTED',
      'bob has read-write; taking it over needs the supervisor or admin role.',
    );
    shell.channel.write('\x1dt');
    await shell.waitFor('[lifeline] bob has read-write; taking it over needs the supervisor or admin role.\r\n');
  });

  it('asks before a power cycle on ^] p c, and runs it on y', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('\x1dp');
    await shell.waitFor('s status, 1 on, 0 off (hard)');
    shell.channel.write('c');
    await shell.waitFor('[lifeline] power cycle default-device? this cuts power to the device. y to confirm, any other key cancels\r\n');
    const attachment = relay.broker.attachments.at(-1)!;
    expect(attachment.powerActions).toEqual([]);
    shell.channel.write('y');
    await shell.waitFor('[lifeline] power cycle: Chassis Power is on\r\n');
    expect(attachment.powerActions).toEqual(['cycle']);
    expect(attachment.inputText).toBe(''); // menu keys never reach the device
  });

  it('shows why a power action was refused', async () => {
    const shell = await openShell(await alice());
    await relay.broker.until(() => relay.broker.attachments.at(-1));
    relay.broker.attachments.at(-1)!.powerError = new LifelineError(
      'SESSION_NOT_PERMITTED',
      'power reset needs the supervisor or admin role.',
    );
    shell.channel.write('\x1dpr');
    await shell.waitFor('y to confirm');
    shell.channel.write('y');
    await shell.waitFor('[lifeline] power reset failed: power reset needs the supervisor or admin role.');
  });

  it('offers an engineer power status only and refuses a change key with the reason, without asking', async () => {
    const shell = await openShell(await alice());
    const attachment = await relay.broker.until(() => relay.broker.attachments.at(-1));
    attachment.ruleFacts = { ...attachment.ruleFacts, role: 'engineer' };
    shell.channel.write('\x1d?');
    await shell.waitFor('[lifeline]   p   power status (on/off/cycle need the supervisor role)\r\n');
    shell.channel.write('\x1dpc');
    await shell.waitFor('[lifeline] power cycle: on/off/cycle need the supervisor role.\r\n');
    expect(shell.text()).not.toContain('y to confirm');
    expect(attachment.powerActions).toEqual([]);
  });

  it('says power is not available on a console without a BMC, in the help and on p', async () => {
    const shell = await openShell(await alice());
    const attachment = await relay.broker.until(() => relay.broker.attachments.at(-1));
    attachment.ruleFacts = { ...attachment.ruleFacts, power: false };
    shell.channel.write('\x1d?');
    await shell.waitFor('[lifeline]       power: not available, this console has no BMC\r\n');
    shell.channel.write('\x1dps');
    await shell.waitFor('[lifeline] power: not available, this console has no BMC\r\n');
    expect(attachment.powerActions).toEqual([]);
    // the key after p was not eaten by a menu: it went to the device
    await relay.broker.until(() => attachment.inputText === 's');
  });

  it('lists who is attached on ^] w', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('\x1dw');
    await shell.waitFor('[lifeline] alice (you): read-write\r\n');
  });

  it('sends an escape key that was the last byte before the end of input to the device', async () => {
    const shell = await openShell(await alice());
    const attachment = await relay.broker.until(() => relay.broker.attachments.at(-1));
    shell.channel.write('data\x1d');
    await relay.broker.until(() => attachment.inputText === 'data');
    shell.channel.end();
    expect(await shell.exit).toBe(0);
    expect(attachment.inputText).toBe('data\x1d');
  });

  it('sends one ^] for ^] ^], and ^] with any key that is not a command on unchanged, silently', async () => {
    const shell = await openShell(await alice());
    shell.channel.write('\x1d\x1d\x1dz\x1d\x00');
    const attachment = await relay.broker.until(() => relay.broker.attachments.at(-1));
    await relay.broker.until(() => attachment.inputText.length >= 5);
    expect(attachment.inputText).toBe('\x1d\x1dz\x1d\x00');
    // Nothing of lifeline's own in the output: an XMODEM sender reading it would take it for the device's.
    shell.channel.write('\x1dw');
    await shell.waitFor('[lifeline] alice (you)');
    expect(shell.text()).not.toMatch(/unknown|escape command/);
  });
});

describe(':watch sessions (an ObserverAttachment: no input, BREAK, takeover or power change)', () => {
  async function watcher() {
    const client = await connectClient(relay, { username: 'alice:dev2:watch', password: ALICE_PASSWORD });
    clients.push(client);
    const shell = await openShell(client);
    const observer = await relay.broker.until(() => relay.broker.observers.find((o) => o.terminal && !o.detachedWith));
    return { shell, observer };
  }

  it('gives a supervisor on :watch no power-change entry in its escape help, and a p menu that offers status only', async () => {
    const { shell, observer } = await watcher();
    // A supervisor, on an observer's attachment: its rules are observerRights (the kind, not a flag, picks them).
    expect(observer.ruleFacts).toMatchObject({ role: 'supervisor' });
    expect(observer.kind).toBe('observer');
    shell.channel.write('\x1d?');
    await shell.waitFor('[lifeline]   p   power status (on/off/cycle are not for a :watch session; log in without :watch)\r\n');
    expect(shell.text()).toContain('[lifeline]       BREAK: not available, you joined to watch (:watch)\r\n');
    expect(shell.text()).not.toContain('power: status, on, off');
    shell.channel.write('\x1dp');
    await shell.waitFor(
      '[lifeline] power of dev2: s status (on/off/cycle are not for a :watch session; log in without :watch); any other key cancels\r\n',
    );
    shell.channel.write('c');
    await shell.waitFor('[lifeline] power cycle: on/off/cycle are not for a :watch session; log in without :watch.\r\n');
    expect(shell.text()).not.toContain('y to confirm');
    shell.channel.write('\x1dps');
    await shell.waitFor('[lifeline] power status: Chassis Power is on\r\n');
    expect(observer.powerStatusAsked).toBe(1);
    observer.detach('test over');
  });

  it("sends nothing a watcher types (told once), and refuses BREAK and takeover with the rule's reason", async () => {
    const { shell, observer } = await watcher();
    shell.channel.write('show run\r');
    await shell.waitFor('[lifeline] you are watching (read-only); what you type is not sent.\r\n');
    shell.channel.write('\x1db');
    await shell.waitFor('[lifeline] BREAK not sent: you joined to watch (:watch)\r\n');
    shell.channel.write('\x1dt');
    await shell.waitFor('[lifeline] you joined to watch (:watch); log in without it to take read-write.\r\n');
    await expect(sendBreakRequest(shell.channel, 500, true)).resolves.toBe(false);
    shell.channel.write('more');
    shell.channel.write('\x1dw');
    await shell.waitFor('[lifeline] alice (you): watching\r\n');
    expect(shell.text().split('what you type is not sent').length - 1).toBe(1);
    expect(relay.broker.attachments.filter((a) => a.request.person.attachAs === 'observer')).toEqual([]);
    observer.detach('test over');
  });
});
