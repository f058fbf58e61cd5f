import { afterEach, describe, expect, it } from 'vitest';
import type ssh2 from 'ssh2';
import { openShell, type TrackedChannel } from './testing/client-helpers.js';
import { ALICE_PASSWORD, connectClient, startTestRelay, type TestRelay } from './testing/relay-test-harness.js';

let relay: TestRelay | undefined;
const clients: ssh2.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.end();
  await relay?.close();
  relay = undefined;
});

async function alice(r: TestRelay): Promise<ssh2.Client> {
  const client = await connectClient(r, { username: 'alice', password: ALICE_PASSWORD });
  clients.push(client);
  return client;
}

/** Opens a shell without a pty; resolves with the channel or the open error. */
function tryShell(client: ssh2.Client): Promise<TrackedChannel | Error> {
  return openShell(client, false).catch((err: Error) => err);
}

describe('console sessions per connection (limits.sessionsPerConnection)', () => {
  it('gives a connection opening 1,000 session channels only the allowed number, refusing the rest at open with the reason, logged once', async () => {
    relay = await startTestRelay();
    const limit = relay.config.limits.sessionsPerConnection;
    expect(limit).toBe(4); // the schema's default
    const client = await alice(relay);
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 1_000 }, () => tryShell(client)));
    expect(Date.now() - started).toBeLessThan(15_000);

    const opened = results.filter((r): r is TrackedChannel => !(r instanceof Error));
    const refused = results.filter((r): r is Error => r instanceof Error);
    expect(opened).toHaveLength(limit);
    expect(refused).toHaveLength(1_000 - limit);
    // What OpenSSH prints as "open failed: administratively prohibited: <this>".
    expect(refused[0]!.message).toMatch(/at most 4 console sessions at once on one connection/);
    await relay.broker.until(() => relay!.broker.attachments.length === limit);
    expect(relay.logs.filter((l) => l.event === 'session.limit')).toHaveLength(1);

    // Each console session has its own id (recording names, audit lines), and they all work.
    expect(new Set(relay.broker.requests.map((r) => r.person.sessionId)).size).toBe(limit);
    for (const [i, s] of opened.entries()) {
      s.channel.write(`hello ${i}`);
      await s.waitFor(`hello ${i}`);
    }
  });

  it('lets a refused session through once one of the open ones has ended', async () => {
    relay = await startTestRelay({ limits: { sessionsPerConnection: 1 } });
    const client = await alice(relay);
    const first = await tryShell(client);
    if (first instanceof Error) throw first;
    const second = await tryShell(client);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toMatch(/at most 1 console sessions at once.*open a new ssh connection/);

    relay.broker.attachments[0]!.terminal.end(0);
    await first.closed;
    const third = await tryShell(client);
    if (third instanceof Error) throw third;
    third.channel.write('again');
    await third.waitFor('again');
  });

  it('logs only the first few refused forwards of a connection, however many it asks for', async () => {
    relay = await startTestRelay();
    const client = await alice(relay);
    const since = relay.logs.length;
    const errors = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          new Promise<Error | undefined>((resolve) => client.forwardOut('127.0.0.1', 40_000 + i, '127.0.0.1', 22, (err) => resolve(err))),
      ),
    );
    expect(errors.every((e) => e instanceof Error)).toBe(true);
    expect(relay.logs.slice(since).filter((l) => l.event === 'person.request.refused')).toHaveLength(10);
  });
});
