import { describe, expect, it } from 'vitest';
import { participantRights, type ConsoleRuleFacts } from '../session/console-rules.js';
import { EscapeHandler, escapeHelpLines, escapeKeyName, parseEscapeChar, type EscapeStep } from './escape-handler.js';

const ESC = 0x1d;
const b = (s: string) => Buffer.from(s, 'latin1');

/** Steps with data shown as strings, to compare easily. */
function feed(handler: EscapeHandler, ...chunks: string[]): Array<string | { command: string }> {
  return chunks
    .flatMap((c) => handler.feed(b(c)))
    .map((s: EscapeStep) => (s.kind === 'data' ? s.data.toString('latin1') : { command: s.command }));
}

describe('parseEscapeChar', () => {
  it('reads ^] as 0x1d and other control keys alike', () => {
    expect(parseEscapeChar('^]')).toBe(0x1d);
    expect(parseEscapeChar('^A')).toBe(0x01);
    expect(parseEscapeChar('^@')).toBe(0x00);
    expect(parseEscapeChar('^^')).toBe(0x1e);
    expect(parseEscapeChar('^\\')).toBe(0x1c);
  });

  it('turns escapes off for "none"', () => {
    expect(parseEscapeChar('none')).toBeUndefined();
  });

  it('refuses anything that is not a control key', () => {
    expect(() => parseEscapeChar('~')).toThrow(/\^X/);
    expect(() => parseEscapeChar('^a')).toThrow();
  });

  it('names keys back the way people write them', () => {
    expect(escapeKeyName(0x1d)).toBe('^]');
    expect(escapeKeyName(0x01)).toBe('^A');
  });
});

describe('EscapeHandler', () => {
  it('passes input without the escape key through untouched, in one piece', () => {
    const chunk = Buffer.from([0x00, 0x41, 0x0d, 0xff, 0x1b, 0x7e]);
    const steps = new EscapeHandler(ESC).feed(chunk);
    expect(steps).toEqual([{ kind: 'data', data: chunk }]);
  });

  it('turns escape + b into a break, between the data around it', () => {
    expect(feed(new EscapeHandler(ESC), 'abc\x1dbdef')).toEqual(['abc', { command: 'break' }, 'def']);
  });

  it('works anywhere in the stream, not only after a newline', () => {
    expect(feed(new EscapeHandler(ESC), 'x\x1dB')).toEqual(['x', { command: 'break' }]);
  });

  it('knows . as disconnect and ? or h as help', () => {
    expect(feed(new EscapeHandler(ESC), '\x1d.', '\x1d?', '\x1dh', '\x1dH')).toEqual([
      { command: 'disconnect' },
      { command: 'help' },
      { command: 'help' },
      { command: 'help' },
    ]);
  });

  it('knows t as takeover and w as who', () => {
    expect(feed(new EscapeHandler(ESC), '\x1dt', '\x1dT', '\x1dw')).toEqual([
      { command: 'takeover' },
      { command: 'takeover' },
      { command: 'who' },
    ]);
  });

  it('sends one literal escape byte for the escape key pressed twice', () => {
    expect(feed(new EscapeHandler(ESC), 'a\x1d\x1db')).toEqual(['a\x1db']);
  });

  it('passes the escape key and a key that is not a command through unchanged, in one piece', () => {
    expect(feed(new EscapeHandler(ESC), 'a\x1dzq')).toEqual(['a\x1dzq']);
    expect(feed(new EscapeHandler(ESC), '\x1d\x1e')).toEqual(['\x1d\x1e']);
  });

  it('passes an escape key at the end of one chunk and a non-command in the next through', () => {
    const handler = new EscapeHandler(ESC);
    expect(feed(handler, 'abc\x1d')).toEqual(['abc']);
    expect(feed(handler, '\x00def')).toEqual(['\x1d\x00def']);
  });

  it('passes every byte that is not a command through after the escape key, NUL and 0xff included', () => {
    const commandKeys = new Set([...'bB?hH.tTwWpP'].map((c) => c.charCodeAt(0)));
    for (let byte = 0; byte < 256; byte++) {
      if (byte === ESC || commandKeys.has(byte)) continue;
      const steps = new EscapeHandler(ESC).feed(Buffer.from([0x41, ESC, byte, 0x42]));
      expect(steps).toEqual([{ kind: 'data', data: Buffer.from([0x41, ESC, byte, 0x42]) }]);
    }
  });

  it('carries all 256 byte values in order unchanged, as an upload does', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const handler = new EscapeHandler(ESC);
    // Byte by byte too: the escape key and its follower arrive in separate chunks.
    for (const chunks of [[all], [...all].map((b) => Buffer.from([b]))]) {
      const data = chunks.flatMap((c) => handler.feed(c)).map((s) => (s.kind === 'data' ? s.data : Buffer.from('COMMAND')));
      expect(Buffer.concat(data).equals(all)).toBe(true);
    }
  });

  it('sends ^] b to the device for ^] ^] b, not a BREAK', () => {
    expect(feed(new EscapeHandler(ESC), '\x1d\x1db')).toEqual(['\x1db']);
  });

  it('keeps an escape at the end of a chunk for the letter in the next chunk', () => {
    const handler = new EscapeHandler(ESC);
    expect(feed(handler, 'abc\x1d')).toEqual(['abc']);
    expect(handler.awaitingCommand).toBe(true);
    expect(feed(handler, 'bxyz')).toEqual([{ command: 'break' }, 'xyz']);
    expect(handler.awaitingCommand).toBe(false);
  });

  it('gives back an escape key still waiting for its next key at the end of input, once', () => {
    const handler = new EscapeHandler(ESC);
    expect(handler.endOfInput()).toBeUndefined();
    feed(handler, 'abc\x1d');
    expect(handler.endOfInput()).toEqual(Buffer.from([ESC]));
    expect(handler.awaitingCommand).toBe(false);
    expect(handler.endOfInput()).toBeUndefined();
  });

  it('handles an escape key alone in its chunk, then its twin alone in the next', () => {
    const handler = new EscapeHandler(ESC);
    expect(feed(handler, '\x1d', '\x1d', 'x')).toEqual(['\x1d', 'x']);
  });

  it('uses the configured key and leaves ^] alone when another key is chosen', () => {
    expect(feed(new EscapeHandler(0x01), '\x1db\x01b')).toEqual(['\x1db', { command: 'break' }]);
  });
});

const rightsOf = (facts: Partial<ConsoleRuleFacts>) =>
  participantRights({ role: 'engineer', isWriter: true, writer: 'alice', power: true, ...facts });

describe('escape texts', () => {
  it('lists every command in the help, naming the key', () => {
    const help = escapeHelpLines(ESC, rightsOf({ role: 'supervisor' })).join('\n');
    for (const item of ['^]', 'b ', '. ', '? ', 'BREAK', 'disconnect', 'p   power: status, on, off']) expect(help).toContain(item);
  });

  it('says power is not available on a console without a BMC, and offers no p', () => {
    const help = escapeHelpLines(ESC, rightsOf({ role: 'admin', power: false }));
    expect(help).toContain('      power: not available, this console has no BMC');
    expect(help.join('\n')).not.toMatch(/^ {2}p /m);
  });

  it('offers an engineer power status only, and says what the rest needs', () => {
    expect(escapeHelpLines(ESC, rightsOf({}))).toContain('  p   power status (on/off/cycle need the supervisor role)');
  });

  it('offers a read-only viewer no BREAK, and says why', () => {
    const help = escapeHelpLines(ESC, rightsOf({ isWriter: false }));
    expect(help).toContain('      BREAK: not available, you are read-only (alice has read-write)');
    expect(help.join('\n')).not.toMatch(/^ {2}b /m);
  });

  it('says in the help what the escape key twice and any other key do', () => {
    const help = escapeHelpLines(ESC, rightsOf({}));
    expect(help).toContain('  ^]  send ^] itself');
    expect(help).toContain('  any other key is sent on with the ^] before it, both unchanged');
  });
});
