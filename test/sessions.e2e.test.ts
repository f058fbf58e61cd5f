import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LifelineSite, users } from './support/lifeline-site.js';
import { openConsole, type ConsoleClient } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

const ESC = '\x1d';
const open: ConsoleClient[] = [];
const login = async (user: keyof typeof users, suffix = '', pty = true) => {
  const client = await openConsole({ port: site.port, user: `${user}${suffix}`, password: users[user].password, pty });
  open.push(client);
  return client;
};
/** Waits for `pattern` in what came after the join scrollback, not in the scrollback itself. */
function waitForLive(c: ConsoleClient, pattern: RegExp): Promise<string> {
  return waitFor(
    () => `live output ${pattern} (got ${JSON.stringify(c.output().slice(-300))})`,
    () => {
      const out = c.output();
      const live = out.slice(out.lastIndexOf('---- live ----') + 1);
      return pattern.test(live) ? live : undefined;
    },
  );
}
// The sim's clock answer, not a timestamp in the scrollback.
const clockAnswer = /\*\d\d:\d\d:\d\d\.\d{3} UTC/;

let dir: Awaited<ReturnType<typeof makeTempDir>>;
let site: LifelineSite;

beforeAll(async () => {
  dir = await makeTempDir('e2e-sessions');
  site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
});
afterEach(async () => {
  await leave(...open.splice(0));
});
afterAll(async () => {
  await site?.stop();
  await dir?.remove();
});

/** Ends the sessions and waits until the relay has let go of them, so tests do not leak writers. */
async function leave(...clients: ConsoleClient[]): Promise<void> {
  for (const c of clients) {
    c.end();
    const i = open.indexOf(c);
    if (i >= 0) open.splice(i, 1);
  }
  await Promise.all(clients.map((c) => c.closed));
}

describe('several people on one device', () => {
  it('gives read-write to exactly one of two engineers racing for the device', async () => {
    const [a, d] = await Promise.all([login('alice'), login('dave')]);
    const readOnly = await waitFor('one read-only notice', () => [a, d].find((c) => /has read-write; you are read-only/.test(c.output())));
    const writer = readOnly === a ? d : a;
    expect(writer.output()).not.toMatch(/you are read-only/);

    readOnly.write('from-the-viewer\r');
    await readOnly.waitForOutput('what you type is not sent');
    writer.write('show clock\r');
    await writer.waitForOutput(clockAnswer);
    await readOnly.waitForOutput(clockAnswer); // everyone sees the same output
    expect(writer.output()).not.toContain('from-the-viewer');
    await leave(a, d);
  });

  it('lets a supervisor take over; the engineer is told and continues read-only', async () => {
    const alice = await login('alice');
    await alice.waitForOutput('connected to rtr-1');
    const sue = await login('sue');
    await sue.waitForOutput(/alice has read-write; you are read-only \(escape key, then t, takes over\)/);
    sue.write(`${ESC}t`);
    await sue.waitForOutput('you now have read-write.');
    await alice.waitForOutput('sue took over read-write; you are now read-only.');
    sue.write('show version\r');
    await waitForLive(alice, /lifeline simulated IOS/);
    const audit = await site.relay.waitForLog('writer change', (l) => l.event === 'session.writer' && l.reason === 'takeover');
    expect(audit).toMatchObject({ from: 'alice', to: 'sue', deviceId: 'rtr-1' });
    await leave(alice, sue);
  });

  it('refuses a takeover by an engineer while someone holds read-write', async () => {
    const alice = await login('alice');
    await alice.waitForOutput('connected to rtr-1');
    const dave = await login('dave');
    await dave.waitForOutput('you are read-only');
    dave.write(`${ESC}t`);
    await dave.waitForOutput('taking it over needs the supervisor or admin role');
    await leave(alice, dave);
  });

  it('offers in the escape help only what the console and the person may do, and says why (sim console: no BMC)', async () => {
    const alice = await login('alice');
    await alice.waitForOutput('connected to rtr-1');
    const dave = await login('dave');
    await dave.waitForOutput('you are read-only');
    dave.write(`${ESC}?`);
    await dave.waitForOutput('BREAK: not available, you are read-only (alice has read-write)');
    await dave.waitForOutput('power: not available, this console has no BMC');
    expect(dave.output()).not.toMatch(/^\[lifeline\] {3}b {3}/m);
    // The key refuses with the same reason the help gives, and no menu opens.
    dave.write(`${ESC}b`);
    await dave.waitForOutput('BREAK not sent: you are read-only (alice has read-write)');
    alice.write(`${ESC}p`);
    await alice.waitForOutput('[lifeline] power: not available, this console has no BMC');
    alice.write(`${ESC}?`);
    await alice.waitForOutput('[lifeline]   b   send BREAK to the device');
    await leave(alice, dave);
  });

  it('lets a supervisor watch with :watch, never typing into the console, even alone', async () => {
    const sue = await login('sue', ':rtr-1:watch');
    await sue.waitForOutput('watching read-only');
    sue.write('reload\r');
    await sue.waitForOutput('you are watching (read-only); what you type is not sent.');
    const alice = await login('alice');
    alice.write('show version\r'); // alice is the writer although sue came first
    await waitForLive(sue, /lifeline simulated IOS/);
    expect(sue.output()).not.toContain('reload');
    await leave(alice, sue);
  });

  it('shows recent console output, set apart, to a person who joins', async () => {
    const alice = await login('alice');
    alice.write('show version\r');
    await waitForLive(alice, /Configuration register/);
    await leave(alice);
    const dave = await login('dave');
    const seen = await dave.waitForOutput(/---- live ----/);
    expect(seen).toMatch(/---- last \d+ bytes of rtr-1 console output[^\n]*\r\n[\s\S]*Configuration register[\s\S]*---- live ----/);
    await leave(dave);
  });

  it('logs session start and end with bytes each way and duration', async () => {
    const startsBefore = site.relay.logs.filter((l) => l.event === 'session.start').length;
    const alice = await login('alice');
    const start = await waitFor('alice session start', () =>
      site.relay.logs
        .filter((l) => l.event === 'session.start')
        .slice(startsBefore)
        .find((l) => l.user === 'alice'),
    );
    expect(start.recording).toMatch(/\.cast$/);
    alice.write('show version\r');
    await waitForLive(alice, /Configuration register/);
    await leave(alice);
    const end = await site.relay.waitForLog('session end', (l) => l.event === 'session.end' && l.sessionId === start.sessionId);
    expect(end).toMatchObject({ user: 'alice', deviceId: 'rtr-1', peer: expect.stringMatching(/^127\.0\.0\.1:/) });
    expect(Number(end.bytesIn)).toBe('show version\r'.length);
    expect(Number(end.bytesOut)).toBeGreaterThan(100);
    expect(Number(end.durationMs)).toBeGreaterThan(0);
  });
});
