import { describe, expect, it } from 'vitest';
import { ComPortResponder, LIFELINE_SIGNATURE } from './com-port-responder.js';
import { ComPortCommand, Parity, SetControl, decodeComPort, encodeComPort, type ComPortMessage } from './rfc2217.js';

describe('RFC 2217 codec', () => {
  it('encodes SET-BAUDRATE as a 32-bit big-endian value', () => {
    expect(encodeComPort({ command: 'set-baudrate', fromServer: false, value: 115200 })).toEqual(Buffer.from([1, 0x00, 0x01, 0xc2, 0x00]));
  });

  it('encodes server replies with the code plus 100', () => {
    expect(encodeComPort({ command: 'set-control', fromServer: true, value: SetControl.BREAK_ON })).toEqual(Buffer.from([105, 5]));
    expect(encodeComPort({ command: 'purge-data', fromServer: true, value: 3 })).toEqual(Buffer.from([112, 3]));
  });

  it('round-trips every command in both directions', () => {
    const messages: ComPortMessage[] = [];
    for (const fromServer of [false, true]) {
      messages.push(
        { command: 'signature', fromServer, text: 'ser2net 4.3' },
        { command: 'signature', fromServer, text: '' },
        { command: 'set-baudrate', fromServer, value: 4_000_000_000 },
        { command: 'set-datasize', fromServer, value: 8 },
        { command: 'set-parity', fromServer, value: Parity.EVEN },
        { command: 'set-stopsize', fromServer, value: 1 },
        { command: 'set-control', fromServer, value: SetControl.BREAK_OFF },
        { command: 'notify-linestate', fromServer, value: 0x60 },
        { command: 'notify-modemstate', fromServer, value: 0xff },
        { command: 'flowcontrol-suspend', fromServer },
        { command: 'flowcontrol-resume', fromServer },
        { command: 'set-linestate-mask', fromServer, value: 0 },
        { command: 'set-modemstate-mask', fromServer, value: 255 },
        { command: 'purge-data', fromServer, value: 1 },
      );
    }
    for (const message of messages) expect(decodeComPort(encodeComPort(message))).toEqual(message);
    expect(new Set(messages.map((m) => m.command)).size).toBe(Object.keys(ComPortCommand).length);
  });

  it('rejects unknown codes and wrong lengths instead of guessing', () => {
    expect(decodeComPort(Buffer.alloc(0))).toBeUndefined();
    expect(decodeComPort(Buffer.from([13, 0]))).toBeUndefined();
    expect(decodeComPort(Buffer.from([99, 0]))).toBeUndefined();
    expect(decodeComPort(Buffer.from([113, 0]))).toBeUndefined();
    expect(decodeComPort(Buffer.from([1, 0, 0]))).toBeUndefined();
    expect(decodeComPort(Buffer.from([5]))).toBeUndefined();
    expect(decodeComPort(Buffer.from([5, 1, 2]))).toBeUndefined();
    expect(decodeComPort(Buffer.from([8, 0]))).toBeUndefined();
  });

  it('refuses a one-byte value out of range', () => {
    expect(() => encodeComPort({ command: 'set-control', fromServer: false, value: 256 })).toThrow(RangeError);
  });
});

describe('ComPortResponder', () => {
  const ask = (r: ComPortResponder, command: ComPortMessage['command'], value?: number) => r.reply({ command, fromServer: false, value });

  it('echoes each setting in the matching server reply', () => {
    const r = new ComPortResponder();
    expect(ask(r, 'set-baudrate', 9600)).toEqual({ command: 'set-baudrate', fromServer: true, value: 9600 });
    expect(ask(r, 'set-control', SetControl.BREAK_ON)).toEqual({ command: 'set-control', fromServer: true, value: 5 });
    expect(ask(r, 'purge-data', 3)).toEqual({ command: 'purge-data', fromServer: true, value: 3 });
  });

  it('answers a request for the current value with the last value set', () => {
    const r = new ComPortResponder();
    expect(ask(r, 'set-parity', Parity.REQUEST)?.value).toBe(Parity.NONE);
    ask(r, 'set-baudrate', 19200);
    expect(ask(r, 'set-baudrate', 0)?.value).toBe(19200);
    expect(ask(r, 'set-control', SetControl.REQUEST_BREAK)?.value).toBe(SetControl.BREAK_OFF);
    ask(r, 'set-control', SetControl.BREAK_ON);
    expect(ask(r, 'set-control', SetControl.REQUEST_BREAK)?.value).toBe(SetControl.BREAK_ON);
    ask(r, 'set-control', SetControl.DTR_OFF);
    expect(ask(r, 'set-control', SetControl.REQUEST_DTR)?.value).toBe(SetControl.DTR_OFF);
  });

  it('sends its signature only when asked with an empty one', () => {
    const r = new ComPortResponder();
    expect(r.reply({ command: 'signature', fromServer: false, text: '' })?.text).toBe(LIFELINE_SIGNATURE);
    expect(r.reply({ command: 'signature', fromServer: false, text: 'pyserial' })).toBeUndefined();
  });

  it('does not answer flow-control notifications or server messages', () => {
    const r = new ComPortResponder();
    expect(ask(r, 'flowcontrol-suspend')).toBeUndefined();
    expect(r.reply({ command: 'set-baudrate', fromServer: true, value: 9600 })).toBeUndefined();
  });
});
