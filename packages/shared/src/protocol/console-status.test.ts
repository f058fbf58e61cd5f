import { describe, expect, it } from 'vitest';
import { MAX_STATUS_MESSAGE, decodeConsoleStatus, encodeConsoleStatus } from './console-status.js';

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
