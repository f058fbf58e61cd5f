import { describe, expect, it } from 'vitest';
import { consoleRights, type ConsoleRuleFacts } from '../session/console-rules.js';
import { EscapeHandler, escapeHelpLines, escapeHintLine, escapeKeyName, parseEscapeChar, type EscapeStep } from './escape-handler.js';

const ESC = 0x1d;
const b = (s: string) => Buffer.from(s, 'latin1');

/** Steps with data shown as strings, to compare easily. */
function feed(handler: EscapeHandler, ...chunks: string[]): Array<string | { command: string }> {
  return chunks.flatMap((c) => handler.feed(b(c))).map((s: EscapeStep) => (s.kind === 'data' ? s.data.toString('latin1') : { command: s.command }));
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
    expect(feed(new EscapeHandler(ESC), '\x1dt', '\x1dT', '\x1dw')).toEqual([{ command: 'takeover' }, { command: 'takeover' }, { command: 'who' }]);
  });

  it('sends one literal escape byte for the escape key pressed twice', () => {
    expect(feed(new EscapeHandler(ESC), 'a\x1d\x1db')).toEqual(['a', '\x1d', 'b']);
  });

  it('answers any other key after the escape with a hint and swallows that key', () => {
    expect(feed(new EscapeHandler(ESC), '\x1dzq')).toEqual([{ command: 'unknown' }, 'q']);
  });

  it('keeps an escape at the end of a chunk for the letter in the next chunk', () => {
    const handler = new EscapeHandler(ESC);
    expect(feed(handler, 'abc\x1d')).toEqual(['abc']);
    expect(handler.awaitingCommand).toBe(true);
    expect(feed(handler, 'bxyz')).toEqual([{ command: 'break' }, 'xyz']);
    expect(handler.awaitingCommand).toBe(false);
  });

  it('handles an escape key alone in its chunk, then its twin alone in the next', () => {
    const handler = new EscapeHandler(ESC);
    expect(feed(handler, '\x1d', '\x1d', 'x')).toEqual(['\x1d', 'x']);
  });

  it('uses the configured key and leaves ^] alone when another key is chosen', () => {
    expect(feed(new EscapeHandler(0x01), '\x1db\x01b')).toEqual(['\x1db', { command: 'break' }]);
  });
});

const rightsOf = (facts: Partial<ConsoleRuleFacts>) => consoleRights({ role: 'engineer', watch: false, isWriter: true, writer: 'alice', power: true, ...facts });

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

  it('points to the help in the hint', () => {
    expect(escapeHintLine(ESC)).toMatch(/\^\] \?/);
  });
});
