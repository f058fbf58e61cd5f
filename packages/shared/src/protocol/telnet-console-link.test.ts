import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { createSocketPair, type SocketPair } from '../testing/index.js';
import type { ConsoleStatus } from './console-status.js';
import { TelnetConsoleClient, TelnetConsoleServer } from './telnet-console-link.js';
import type { BreakAction } from './telnet-endpoint-types.js';

let pairs: SocketPair[] = [];
afterEach(() => {
  for (const p of pairs) p.close();
  pairs = [];
});

/** The relay's end and the agent's end of one console stream, over a real TCP connection on 127.0.0.1. */
async function link(): Promise<{ relay: TelnetConsoleClient; agent: TelnetConsoleServer }> {
  const pair = await createSocketPair();
  pairs.push(pair);
  return { relay: new TelnetConsoleClient(pair.client, silentLogger()), agent: new TelnetConsoleServer(pair.server, silentLogger()) };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('TelnetConsoleClient and TelnetConsoleServer (the two ends of a console stream)', () => {
  it('carry all 256 byte values both ways', async () => {
    const { relay, agent } = await link();
    const toAgent: Buffer[] = [];
    const toRelay: Buffer[] = [];
    agent.onData((chunk) => toAgent.push(chunk));
    relay.onData((chunk) => toRelay.push(chunk));
    relay.write(allBytes);
    agent.write(allBytes);
    await until(() => Buffer.concat(toAgent).length >= 256 && Buffer.concat(toRelay).length >= 256, 'both directions');
    expect(Buffer.concat(toAgent)).toEqual(allBytes);
    expect(Buffer.concat(toRelay)).toEqual(allBytes);
  });

  it("carry the relay's BREAK on and off to the agent, and the agent's status to the relay", async () => {
    const { relay, agent } = await link();
    const breaks: BreakAction[] = [];
    const statuses: ConsoleStatus[] = [];
    agent.onBreak((action) => breaks.push(action));
    relay.onStatus((status) => statuses.push(status));
    agent.sendStatus({ state: 'up', kind: 'serial', line: '9600 8N1' });
    await until(() => statuses.length === 1, 'the status');
    relay.setBreak(true);
    relay.setBreak(false);
    await until(() => breaks.length === 2, 'two breaks');
    expect(breaks).toEqual(['on', 'off']);
    expect(statuses[0]).toMatchObject({ state: 'up', kind: 'serial', line: '9600 8N1' });
  });

  it('tell each side once when the other closes the stream', async () => {
    const { relay, agent } = await link();
    let relayClosed = 0;
    let agentClosed = 0;
    relay.onClose(() => relayClosed++);
    agent.onClose(() => agentClosed++);
    agent.close();
    await until(() => relayClosed === 1 && agentClosed === 1, 'both sides closed');
    relay.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([relayClosed, agentClosed]).toEqual([1, 1]);
    let late = 0;
    relay.onClose(() => late++);
    expect(late).toBe(1);
  });
});
