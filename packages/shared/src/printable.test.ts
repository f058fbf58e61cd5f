import { describe, expect, it } from 'vitest';
import { printable } from './printable.js';

describe('printable', () => {
  it('shows escape sequences escaped, so they never reach a terminal raw', () => {
    expect(printable('\x1b]0;owned\x07\x1b[2Jagent')).toBe('\\x1b]0;owned\\x07\\x1b[2Jagent');
  });

  it('turns line breaks and tabs into one space and trims', () => {
    expect(printable('  Port already in use\r\n\tagain\n')).toBe('Port already in use again');
  });

  it('escapes C1 controls and DEL, keeps other Unicode', () => {
    expect(printable('a\x9bb\x7fc ü →')).toBe('a\\x9bb\\x7fc ü →');
  });

  it('reads a Buffer byte for byte (Latin-1)', () => {
    expect(printable(Buffer.from([0x41, 0x1b, 0x5b, 0x0d, 0x0a, 0x42]))).toBe('A\\x1b[ B');
  });

  it('cuts long text with a visible mark', () => {
    expect(printable('x'.repeat(50), 10)).toBe('xxxxxxx...');
    expect(printable('x'.repeat(10), 10)).toBe('xxxxxxxxxx');
  });
});
