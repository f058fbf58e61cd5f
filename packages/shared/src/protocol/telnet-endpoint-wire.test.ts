/**
 * A TelnetEndpoint against a raw socket the test speaks bytes on: what exactly goes on the wire,
 * and what a misbehaving peer can and cannot do to it.
 */
import { Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ByteCollector, createSocketPair, type SocketPair } from '../testing/index.js';
import type { ConsoleStatus } from './console-status.js';
import { IAC, TelnetCommand as C, TelnetOption as O } from './telnet-constants.js';
import { TelnetEndpoint } from './telnet-endpoint.js';
import type { BreakAction, TelnetRole } from './telnet-endpoint-types.js';
import { TelnetParser, type TelnetEvent } from './telnet-parser.js';

let pairs: SocketPair[] = [];
afterEach(() => {
  for (const p of pairs) p.close();
  pairs = [];
});

interface Rig {
  endpoint: TelnetEndpoint;
  raw: Socket;
  /** Everything the endpoint sent, decoded. */
  wire: ByteCollector;
  logs: Array<{ level: number; msg: string }>;
}

async function rig(role: TelnetRole, comPort = false, writerFence = false): Promise<Rig> {
  const pair = await createSocketPair();
  pairs.push(pair);
  const logs: Rig['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const endpoint = new TelnetEndpoint(pair.server, { role, comPort, writerFence, logger, maxSubnegotiation: 256 });
  return { endpoint, raw: pair.client, wire: new ByteCollector(pair.client), logs };
}

/**
 * Sends `bytes` then a data marker, has the endpoint answer the marker with one of its own, and
 * returns what the endpoint sent before its marker: the endpoint's replies to `bytes`, complete,
 * since output is ordered.
 */
async function exchange(r: Rig, bytes: Buffer): Promise<TelnetEvent[]> {
  const onData = (data: Buffer) => {
    if (data.includes('?')) r.endpoint.write(Buffer.from('!'));
  };
  r.endpoint.on('data', onData);
  r.raw.write(Buffer.concat([bytes, Buffer.from('?')]));
  for (;;) {
    const seen = r.wire.peek();
    if (seen.includes('!')) {
      const events = new TelnetParser().feed(await r.wire.take(seen.indexOf('!') + 1));
      r.endpoint.off('data', onData);
      return events.filter((e) => !(e.type === 'data' && e.data.toString() === '!'));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const neg = (verb: 'WILL' | 'WONT' | 'DO' | 'DONT', option: number) => ({ type: 'negotiation', verb, option });
const bytes = (...values: number[]) => Buffer.from(values);

describe('TelnetEndpoint on the wire', () => {
  it('opens as a server with WILL and DO for BINARY and SGA, and nothing else', async () => {
    const r = await rig('server', true);
    expect(await exchange(r, Buffer.alloc(0))).toEqual([neg('WILL', O.BINARY), neg('DO', O.BINARY), neg('WILL', O.SGA), neg('DO', O.SGA)]);
  });

  it('opens as a client also offering COM-PORT-OPTION and asking for LIFELINE-STATUS', async () => {
    const r = await rig('client', true);
    const sent = await exchange(r, Buffer.alloc(0));
    expect(sent.slice(4)).toEqual([neg('WILL', O.COM_PORT_OPTION), neg('DO', O.LIFELINE_STATUS)]);
  });

  it("opens as a relay's console stream also offering LIFELINE-WRITER", async () => {
    const r = await rig('client', true, true);
    const sent = await exchange(r, Buffer.alloc(0));
    expect(sent.slice(4)).toEqual([neg('WILL', O.COM_PORT_OPTION), neg('DO', O.LIFELINE_STATUS), neg('WILL', O.LIFELINE_WRITER)]);
  });

  it('answers an offer of LIFELINE-WRITER as a server with DO, and a claim in the same write is understood', async () => {
    const r = await rig('server', true);
    const claims: bigint[] = [];
    r.endpoint.on('writerClaim', (token) => claims.push(token));
    const claim = Buffer.concat([bytes(0xff, 0xfa, O.LIFELINE_WRITER), Buffer.from('{"token":"7"}'), bytes(0xff, 0xf0)]);
    const sent = await exchange(r, Buffer.concat([bytes(0xff, 0xfb, O.LIFELINE_WRITER), claim]));
    expect(sent).toContainEqual(neg('DO', O.LIFELINE_WRITER));
    expect(claims).toEqual([7n]);
  });

  it('does not answer confirmations of its own requests', async () => {
    const r = await rig('server');
    await exchange(r, Buffer.alloc(0));
    const confirmations = bytes(IAC, C.DO, O.BINARY, IAC, C.WILL, O.BINARY, IAC, C.DO, O.SGA, IAC, C.WILL, O.SGA);
    expect(await exchange(r, confirmations)).toEqual([]);
    expect(r.endpoint.optionEnabled(O.BINARY, 'local')).toBe(true);
    expect(r.endpoint.optionEnabled(O.SGA, 'remote')).toBe(true);
  });

  it('refuses ECHO and unknown options, each request once', async () => {
    const r = await rig('server', true);
    await exchange(r, Buffer.alloc(0));
    const requests = bytes(IAC, C.DO, O.ECHO, IAC, C.WILL, O.ECHO, IAC, C.WILL, 99, IAC, C.DO, 99, IAC, C.DO, O.COM_PORT_OPTION);
    expect(await exchange(r, requests)).toEqual([
      neg('WONT', O.ECHO),
      neg('DONT', O.ECHO),
      neg('DONT', 99),
      neg('WONT', 99),
      // COM-PORT-OPTION is the client's to perform, never the server's.
      neg('WONT', O.COM_PORT_OPTION),
    ]);
  });

  it('answers every RFC 2217 command from a client with the +100 reply', async () => {
    const r = await rig('server', true);
    const breaks: BreakAction[] = [];
    r.endpoint.on('break', (b) => breaks.push(b));
    await exchange(r, bytes(IAC, C.WILL, O.COM_PORT_OPTION));
    const sb = (...payload: number[]) => bytes(IAC, C.SB, O.COM_PORT_OPTION, ...payload, IAC, C.SE);
    // 115200 baud is 00 01 C2 00; a value with 0xFF in it must arrive doubled and be un-escaped.
    const sent = await exchange(
      r,
      Buffer.concat([sb(1, 0, 1, 0xc2, 0), sb(1, 0, 0, 0xff, 0xff, 0xff, 0xff), sb(5, 5), sb(5, 6), sb(12, 3)]),
    );
    const sbs = sent.filter((e) => e.type === 'subnegotiation');
    expect(sbs.map((e) => (e as { payload: Buffer }).payload)).toEqual([
      bytes(101, 0, 1, 0xc2, 0),
      bytes(101, 0, 0, 0xff, 0xff),
      bytes(105, 5),
      bytes(105, 6),
      bytes(112, 3),
    ]);
    expect(breaks).toEqual(['on', 'off']);
  });

  it('ignores RFC 2217 commands from a client that never negotiated it', async () => {
    const r = await rig('server', true);
    const breaks: BreakAction[] = [];
    r.endpoint.on('break', (b) => breaks.push(b));
    await exchange(r, Buffer.alloc(0));
    expect(await exchange(r, bytes(IAC, C.SB, O.COM_PORT_OPTION, 5, 5, IAC, C.SE))).toEqual([]);
    expect(breaks).toEqual([]);
  });

  it('never sends a status to a client that did not agree to LIFELINE-STATUS', async () => {
    const r = await rig('server');
    r.endpoint.sendStatus({ state: 'down', message: 'not present' });
    const sent = await exchange(r, bytes(IAC, C.DONT, O.LIFELINE_STATUS));
    expect(sent.filter((e) => e.type === 'subnegotiation')).toEqual([]);
  });

  it('ignores malformed statuses from the server and keeps going', async () => {
    const r = await rig('client');
    const statuses: ConsoleStatus[] = [];
    r.endpoint.on('status', (s) => statuses.push(s));
    const status = (text: string) => Buffer.concat([bytes(IAC, C.SB, O.LIFELINE_STATUS), Buffer.from(text), bytes(IAC, C.SE)]);
    await exchange(
      r,
      Buffer.concat([
        bytes(IAC, C.WILL, O.LIFELINE_STATUS),
        status('{"state":'),
        status('{"state":"maybe"}'),
        status('[]'),
        status('{"state":"down","message":"serial port /dev/ttyUSB0 is not present"}'),
      ]),
    );
    expect(statuses).toEqual([{ state: 'down', message: 'serial port /dev/ttyUSB0 is not present' }]);
    expect(r.logs.filter((l) => l.msg === 'malformed LIFELINE-STATUS ignored')).toHaveLength(3);
  });

  it('keeps data and a status that arrive before anyone listens, for the first listener', async () => {
    const r = await rig('client');
    await exchange(r, Buffer.alloc(0));
    const status = Buffer.from('{"state":"down","message":"not present"}');
    // WILL 99 is refused only after everything before it was read: then the early bytes are in.
    r.raw.write(
      Buffer.concat([
        bytes(IAC, C.WILL, O.LIFELINE_STATUS, IAC, C.SB, O.LIFELINE_STATUS),
        status,
        bytes(IAC, C.SE),
        Buffer.from('early'),
        bytes(IAC, C.WILL, 99),
      ]),
    );
    await until(() => r.wire.peek().includes(bytes(IAC, C.DONT, 99)));
    const statuses: ConsoleStatus[] = [];
    r.endpoint.on('status', (s) => statuses.push(s));
    const received = new ByteCollector(r.endpoint);
    r.raw.write(Buffer.from(' late'));
    expect((await received.take(10)).toString()).toBe('early late');
    expect(statuses).toEqual([{ state: 'down', message: 'not present' }]);
  });

  it('survives protocol garbage, drops an endless subnegotiation, and carries data afterwards', async () => {
    const r = await rig('server', true);
    const received = new ByteCollector(r.endpoint);
    r.endpoint.on('error', (err) => {
      throw err;
    });
    const garbage = [
      bytes(IAC, C.SB), // truncated SB: no option yet
      bytes(44, 1, 2), // then the option and a payload, interrupted by the command below
      bytes(IAC, 17, IAC, 200, IAC, C.SE, IAC, C.AYT, IAC, C.DM),
      bytes(IAC, C.SB, 77),
      Buffer.alloc(4 * 1024 * 1024, 0x5a), // an SB that never closes
      bytes(IAC),
    ];
    for (const g of garbage) r.raw.write(g);
    r.raw.write(bytes(C.SE));
    r.raw.write(Buffer.from('alive'));
    expect((await received.take(5, 10_000)).toString()).toBe('alive');
    expect(r.logs.some((l) => l.msg.startsWith('telnet protocol error') && JSON.stringify(l).includes('too-long'))).toBe(true);
    // A lone IAC at the very end is held, not lost: the next byte completes it.
    r.raw.write(bytes(IAC));
    r.raw.write(bytes(IAC, 0x41));
    expect(await received.take(2)).toEqual(bytes(0xff, 0x41));
  });
});
