import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteCollector, createSocketPair, type SocketPair } from '../testing/index.js';
import type { ConsoleStatus } from './console-status.js';
import type { ComPortMessage } from './rfc2217.js';
import { TelnetOption } from './telnet-constants.js';
import { TelnetEndpoint } from './telnet-endpoint.js';
import type { BreakAction, TelnetEndpointOptions } from './telnet-endpoint-types.js';

let pairs: SocketPair[] = [];
afterEach(() => {
  for (const p of pairs) p.close();
  pairs = [];
});

/** A client and a server endpoint over a real TCP connection on 127.0.0.1. */
async function endpoints(
  client: Omit<TelnetEndpointOptions, 'role'> = {},
  server: Omit<TelnetEndpointOptions, 'role'> = {},
): Promise<{ client: TelnetEndpoint; server: TelnetEndpoint }> {
  const pair = await createSocketPair();
  pairs.push(pair);
  return {
    client: new TelnetEndpoint(pair.client, { role: 'client', ...client }),
    server: new TelnetEndpoint(pair.server, { role: 'server', ...server }),
  };
}

function events<T>(endpoint: TelnetEndpoint, name: 'break' | 'comPort' | 'status'): T[] {
  const seen: T[] = [];
  endpoint.on(name, (value: unknown) => seen.push(value as T));
  return seen;
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Writes in random-sized pieces, honouring backpressure. */
async function writeChunked(endpoint: TelnetEndpoint, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length;) {
    const n = 1 + Math.floor(Math.random() * 9000);
    const ok = endpoint.write(data.subarray(at, at + n));
    at += n;
    if (!ok) await once(endpoint, 'drain');
  }
}

function noisyBytes(length: number): Buffer {
  const data = randomBytes(length);
  for (let i = 0; i < length; i += 613) data.fill(0xff, i, i + 1 + (i % 5));
  return data;
}

describe('TelnetEndpoint between a client and a server', () => {
  it('negotiates BINARY both ways and SGA', async () => {
    const { client, server } = await endpoints();
    const sides = ['local', 'remote'] as const;
    const all = [TelnetOption.BINARY, TelnetOption.SGA].flatMap((o) => sides.map((s) => [o, s] as const));
    await until(() => all.every(([o, s]) => client.optionEnabled(o, s) && server.optionEnabled(o, s)), 'options');
    expect(client.optionEnabled(TelnetOption.ECHO, 'remote')).toBe(false);
    expect(server.optionEnabled(TelnetOption.ECHO, 'local')).toBe(false);
  });

  it('delivers data written before negotiation has finished', async () => {
    const { client, server } = await endpoints({ comPort: true }, { comPort: true });
    const received = new ByteCollector(server);
    client.write(Buffer.from('first\r'));
    expect(client.comPortActive).toBe(false);
    expect((await received.take(6)).toString()).toBe('first\r');
  });

  it('carries all 256 byte values and 1 MB with 0xFF runs both ways, intact and in order', async () => {
    const { client, server } = await endpoints({ comPort: true }, { comPort: true });
    const atServer = new ByteCollector(server);
    const atClient = new ByteCollector(client);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const up = Buffer.concat([all, noisyBytes(1024 * 1024)]);
    const down = Buffer.concat([all, noisyBytes(1024 * 1024)]);
    await Promise.all([writeChunked(client, up), writeChunked(server, down)]);
    expect(Buffer.compare(await atServer.take(up.length, 20_000), up)).toBe(0);
    expect(Buffer.compare(await atClient.take(down.length, 20_000), down)).toBe(0);
  });

  it('agrees RFC 2217 when the client offers it and the server accepts', async () => {
    const { client, server } = await endpoints({ comPort: true }, { comPort: true });
    expect(await client.whenComPortSettled()).toBe(true);
    await until(() => server.comPortActive, 'server side of RFC 2217');
  });

  it('sends BREAK ON and OFF as RFC 2217 SET-CONTROL, and the server reports and answers them', async () => {
    const { client, server } = await endpoints({ comPort: true }, { comPort: true });
    const breaks = events<BreakAction>(server, 'break');
    const replies = events<ComPortMessage>(client, 'comPort');
    expect(await client.whenComPortSettled()).toBe(true);
    client.sendBreak('on');
    client.sendBreak('off');
    client.sendBreak('pulse');
    await until(() => breaks.length === 3 && replies.length === 2, 'breaks and replies');
    expect(breaks).toEqual(['on', 'off', 'pulse']);
    expect(replies).toEqual([
      { command: 'set-control', fromServer: true, value: 5 },
      { command: 'set-control', fromServer: true, value: 6 },
    ]);
  });

  it('falls back to IAC BRK when the server refuses RFC 2217, and sends nothing for off', async () => {
    const { client, server } = await endpoints({ comPort: true }, { comPort: false });
    const breaks = events<BreakAction>(server, 'break');
    expect(await client.whenComPortSettled()).toBe(false);
    client.sendBreak('on');
    client.sendBreak('off');
    client.sendBreak('pulse');
    client.write(Buffer.from('marker'));
    await new ByteCollector(server).take(6);
    expect(breaks).toEqual(['pulse', 'pulse']);
  });

  it('sends line settings queued before RFC 2217 was agreed, and the server echoes them', async () => {
    const { client, server } = await endpoints({ comPort: true }, { comPort: true });
    const commands = events<ComPortMessage>(server, 'comPort');
    const replies = events<ComPortMessage>(client, 'comPort');
    expect(client.sendComPort({ command: 'set-baudrate', value: 9600 })).toBe(true);
    await until(() => replies.length === 1, 'reply');
    expect(commands).toEqual([{ command: 'set-baudrate', fromServer: false, value: 9600 }]);
    expect(replies).toEqual([{ command: 'set-baudrate', fromServer: true, value: 9600 }]);
  });

  it('refuses to queue line settings when RFC 2217 was not offered', async () => {
    const { client } = await endpoints();
    expect(client.sendComPort({ command: 'set-baudrate', value: 9600 })).toBe(false);
  });

  it('delivers only the latest status sent before the client agreed, then each new one', async () => {
    const { client, server } = await endpoints();
    const statuses = events<ConsoleStatus>(client, 'status');
    server.sendStatus({ state: 'down', message: 'serial port /dev/ttyUSB0 is not present' });
    server.sendStatus({ state: 'down', message: 'serial port /dev/ttyUSB0 is busy' });
    await until(() => statuses.length === 1, 'first status');
    server.sendStatus({ state: 'up' });
    await until(() => statuses.length === 2, 'second status');
    expect(statuses).toEqual([{ state: 'down', message: 'serial port /dev/ttyUSB0 is busy' }, { state: 'up' }]);
  });

  it('carries a writer claim in its place among the data, and a refusal back (LIFELINE-WRITER)', async () => {
    const { client, server } = await endpoints({ comPort: true, writerFence: true }, { comPort: true });
    const seen: string[] = [];
    server.on('data', (data) => seen.push(`data:${data.toString()}`));
    server.on('writerClaim', (token) => seen.push(`claim:${token}`));
    const refusals: unknown[] = [];
    client.on('writerRefusal', (refusal) => refusals.push(refusal));
    // Written at once after the offer, before the agent's answer: it is understood anyway.
    client.write(Buffer.from('before'));
    expect(client.sendWriterClaim(18446744073709551n)).toBe(true);
    client.write(Buffer.from('after'));
    await until(() => seen.join('').includes('after'), 'data after the claim');
    expect(seen.join('|')).toMatch(/^data:before\|claim:18446744073709551\|data:after$/);
    expect(server.sendWriterRefusal({ refused: 'input', current: 19n, holder: 'relay-b:22\u001b[2J' })).toBe(true);
    await until(() => refusals.length === 1, 'refusal');
    // The holder is the agent's text: it comes back printable, fit for a terminal.
    expect(refusals).toEqual([{ refused: 'input', current: 19n, holder: 'relay-b:22\\x1b[2J' }]);
  });

  it('does not send a claim to a peer that refused LIFELINE-WRITER (an agent that predates it)', async () => {
    const pair = await createSocketPair();
    pairs.push(pair);
    const client = new TelnetEndpoint(pair.client, { role: 'client', writerFence: true });
    const settled: unknown[] = [];
    client.on('option', (change) => {
      if (change.option === TelnetOption.LIFELINE_WRITER) settled.push(change);
    });
    // IAC DONT 201, as an agent that does not know the option answers the offer.
    pair.server.write(Buffer.from([0xff, 0xfe, TelnetOption.LIFELINE_WRITER]));
    await until(() => settled.length === 1, 'the offer refused');
    expect(client.sendWriterClaim(1n)).toBe(false);
  });

  it('forwards backpressure: write returns false while the peer is paused, then drain', async () => {
    const { client, server } = await endpoints();
    const received = new ByteCollector(server);
    server.pause();
    const chunk = Buffer.alloc(64 * 1024, 0xff);
    let written = 0;
    while (client.write(chunk)) {
      written += chunk.length;
      if (written > 256 * 1024 * 1024) throw new Error('write never signalled backpressure');
    }
    written += chunk.length;
    const drained = once(client, 'drain');
    server.resume();
    await drained;
    expect((await received.take(written, 20_000)).every((b) => b === 0xff)).toBe(true);
  });

  it('forwards end and close from the stream', async () => {
    const { client, server } = await endpoints();
    const ended = once(server, 'end');
    const closed = once(server, 'close');
    server.on('data', () => undefined);
    client.end();
    await ended;
    server.end();
    await closed;
    expect(await client.whenComPortSettled()).toBe(false);
  });
});
