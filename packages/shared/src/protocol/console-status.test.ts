import { describe, expect, it } from 'vitest';
import { MAX_STATUS_MESSAGE, decodeConsoleStatus, encodeConsoleStatus, formatLineSettings } from './console-status.js';

describe('console status payload', () => {
  it('round-trips a status as UTF-8 JSON', () => {
    const status = { state: 'down', message: 'serial port /dev/ttyUSB0 is not present — ünïcode' } as const;
    const wire = encodeConsoleStatus(status);
    expect(JSON.parse(wire.toString('utf8'))).toEqual(status);
    expect(decodeConsoleStatus(wire)).toEqual(status);
    expect(decodeConsoleStatus(encodeConsoleStatus({ state: 'up' }))).toEqual({ state: 'up' });
  });

  it('cuts an overlong message on sending', () => {
    const wire = encodeConsoleStatus({ state: 'down', message: 'x'.repeat(5000) });
    expect(decodeConsoleStatus(wire)?.message).toHaveLength(MAX_STATUS_MESSAGE);
  });

  it('carries the console kind, line settings and power capability (docs/protocol.md bytes)', () => {
    const status = {
      state: 'down',
      message: 'serial port /dev/ttyUSB0 is not present',
      kind: 'serial',
      line: '9600 8N1',
      power: false,
    } as const;
    const wire = encodeConsoleStatus(status);
    expect(wire.toString('utf8')).toBe(
      '{"state":"down","message":"serial port /dev/ttyUSB0 is not present","kind":"serial","line":"9600 8N1","power":false}',
    );
    expect(decodeConsoleStatus(wire)).toEqual(status);
    expect(encodeConsoleStatus({ state: 'up', kind: 'ipmi-sol', power: true }).toString('hex')).toBe(
      Buffer.from('{"state":"up","kind":"ipmi-sol","power":true}').toString('hex'),
    );
  });

  it('leaves kind, line and power undefined for an agent that does not send them', () => {
    expect(decodeConsoleStatus(Buffer.from('{"state":"up"}'))).toEqual({ state: 'up' });
  });

  it('drops a kind, line or power of the wrong type and keeps the rest', () => {
    expect(decodeConsoleStatus(Buffer.from('{"state":"up","kind":7,"line":["x"],"power":"yes"}'))).toEqual({ state: 'up' });
  });

  it('hands back text with control characters escaped: it is shown on terminals', () => {
    const status = decodeConsoleStatus(
      Buffer.from(JSON.stringify({ state: 'down', message: 'gone\x1b[2J\r\nnow', kind: 'serial\x07', line: '9600\x1b]0;x' })),
    );
    expect(status).toEqual({ state: 'down', message: 'gone\\x1b[2J now', kind: 'serial\\x07', line: '9600\\x1b]0;x' });
  });

  it('writes line settings the way people do', () => {
    expect(formatLineSettings({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 })).toBe('9600 8N1');
    expect(formatLineSettings({ baudRate: 115200, dataBits: 7, parity: 'even', stopBits: 2 })).toBe('115200 7E2');
  });

  it('ignores unknown keys from a newer peer', () => {
    expect(decodeConsoleStatus(Buffer.from('{"state":"up","since":12}'))).toEqual({ state: 'up' });
  });

  it.each([
    ['not JSON', '{"state":'],
    ['not an object', '"up"'],
    ['null', 'null'],
    ['unknown state', '{"state":"sideways"}'],
    ['message not a string', '{"state":"down","message":42}'],
    ['invalid UTF-8 garbage', '\xff\xfe'],
  ])('rejects a payload that is %s', (_, text) => {
    expect(decodeConsoleStatus(Buffer.from(text, 'latin1'))).toBeUndefined();
  });
});
