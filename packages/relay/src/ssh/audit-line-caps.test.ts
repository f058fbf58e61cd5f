import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { openShell } from './testing/client-helpers.js';
import { ALICE_PASSWORD, connectClient, startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay.close();
});

/** Longest log line a peer's text may make: the text is cut to 100 characters, the rest is ours. */
const MAX_LINE = 1_500;
const HUGE = 10_000;

/** Tries a login; resolves with how it ended. The relay's log lines are what the tests check. */
async function attempt(config: ssh2.ConnectConfig): Promise<ssh2.Client | Error> {
  return connectClient(relay, config).catch((err: Error) => err);
}

function longestLine(since: number): { length: number; line: string } {
  const lines = relay.logs.slice(since).map((l) => JSON.stringify(l));
  const line = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
  return { length: line.length, line: line.slice(0, 300) };
}

describe('audit and log lines stay bounded whatever a peer sends', () => {
  it('cuts a 10 kB login name in the auth lines', async () => {
    const since = relay.logs.length;
    const result = await attempt({ username: 'u'.repeat(HUGE), password: 'wrong', tryKeyboard: false });
    expect(result).toBeInstanceOf(Error);
    const failure = await relay.waitForLog('auth.failure');
    expect(String(failure.user)).toMatch(/^u{100}\.\.\.\(\+9900\)$/);
    expect(longestLine(since).length).toBeLessThan(MAX_LINE);
  });

  it('refuses a login whose device part is 10 kB (or carries escapes) at authentication, with bounded lines and nothing raw on the terminal', async () => {
    for (const device of ['d'.repeat(HUGE), `dev1\x1b]0;owned\x07\x1b[2J${'x'.repeat(HUGE)}`]) {
      const since = relay.logs.length;
      const result = await attempt({ username: `alice:${device}`, password: ALICE_PASSWORD, tryKeyboard: false });
      if (!(result instanceof Error)) {
        // Before this was fixed: in, and the 10 kB name went into the attach failure and onto the terminal.
        const shell = await openShell(result);
        await shell.exit;
        result.end();
        expect(shell.text()).not.toContain('\x1b]0;owned');
      }
      expect(result).toBeInstanceOf(Error);
      await relay.waitForLog('auth.failure', { reason: 'login name has a part no user or device name can have' });
      const longest = longestLine(since);
      expect(longest.length, longest.line).toBeLessThan(MAX_LINE);
      expect(JSON.stringify(relay.logs.slice(since))).not.toContain('\\u001b');
    }
  });

  it('cuts an 8 kB client version (the longest ssh2 takes) in the connection lines', async () => {
    const since = relay.logs.length;
    // ssh2's server takes version lines up to 8 kB (a longer one ends the connection); this one gets through, and is cut.
    const result = await attempt({ username: 'alice', password: ALICE_PASSWORD, ident: `x-${'v'.repeat(8_000)}`, tryKeyboard: false });
    expect(result).not.toBeInstanceOf(Error);
    if (!(result instanceof Error)) result.end();
    const opened = await relay.broker
      .until(() => relay.logs.slice(since).find((l) => l.event === 'connection.open'), 5_000)
      .catch(() => undefined);
    expect(opened, 'a connection.open line for this connection').toBeDefined();
    expect(String(opened!.client)).toMatch(/^x-v{98}\.\.\.\(\+\d+\)$/);
    expect(longestLine(since).length).toBeLessThan(MAX_LINE);
  });
});
