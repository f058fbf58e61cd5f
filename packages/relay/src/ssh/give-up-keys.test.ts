import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { giveUpKeyNames, watchGiveUpKeys } from './give-up-keys.js';

function watch(escapeByte: number | undefined) {
  const input = new EventEmitter();
  let gaveUp = 0;
  const watcher = watchGiveUpKeys(input, escapeByte, () => gaveUp++);
  return { send: (s: string) => input.emit('data', Buffer.from(s, 'latin1')), gaveUp: () => gaveUp, watcher };
}

describe('watchGiveUpKeys', () => {
  it('gives up on Ctrl-C', () => {
    const w = watch(0x1d);
    w.send('abc');
    expect(w.gaveUp()).toBe(0);
    w.send('\x03');
    expect(w.gaveUp()).toBe(1);
  });

  it('gives up on the escape key then ., also split across chunks, not on a lone .', () => {
    const w = watch(0x1d);
    w.send('.');
    w.send('\x1d');
    expect(w.gaveUp()).toBe(0);
    w.send('.');
    expect(w.gaveUp()).toBe(1);
    expect(giveUpKeyNames(0x1d)).toBe('Ctrl-C or ^] then .');
  });

  it('gives up when the input ends (the client sent EOF)', () => {
    const input = new EventEmitter();
    let gaveUp = 0;
    watchGiveUpKeys(input, 0x1d, () => gaveUp++);
    input.emit('end');
    expect(gaveUp).toBe(1);
  });

  it('names only Ctrl-C when escapes are off, and stops listening on stop()', () => {
    const w = watch(undefined);
    expect(giveUpKeyNames(undefined)).toBe('Ctrl-C');
    w.watcher.stop();
    w.send('\x03');
    expect(w.gaveUp()).toBe(0);
  });
});
