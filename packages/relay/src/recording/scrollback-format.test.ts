import { describe, expect, it } from 'vitest';
import { formatScrollback } from './scrollback-format.js';

describe('formatScrollback', () => {
  it('sets the scrollback apart with a header naming the device and a live footer, CRLF', () => {
    const out = formatScrollback(Buffer.from('Router#\r\n'), 'rtr-tokyo-01').toString();
    expect(out).toBe(
      '---- last 9 bytes of rtr-tokyo-01 console output (before you joined) ----\r\n' + 'Router#\r\n' + '---- live ----\r\n',
    );
  });

  it('starts the footer on a new line when the output ends mid-line (a prompt)', () => {
    const out = formatScrollback(Buffer.from('Router>'), 'r1').toString();
    expect(out.endsWith('Router>\r\n---- live ----\r\n')).toBe(true);
  });

  it('gives nothing for an empty scrollback', () => {
    expect(formatScrollback(Buffer.alloc(0), 'r1').length).toBe(0);
  });

  it('skips the rest of a character cut at the start, and counts what it shows', () => {
    // "€" is E2 82 AC: the ring was cut after its lead byte.
    const cut = Buffer.from('€Aé\r\n', 'utf8').subarray(1);
    const out = formatScrollback(cut, 'r1');
    expect(out.toString('utf8')).toBe('---- last 5 bytes of r1 console output (before you joined) ----\r\nAé\r\n---- live ----\r\n');
  });

  it('keeps binary bytes as they are after the cut, 0x00 and 0xFF included', () => {
    const body = Buffer.from([0x00, 0xff, 0x80, 0x0d, 0x0a]);
    const out = formatScrollback(body, 'r1');
    const headerEnd = out.indexOf('\r\n') + 2;
    expect(out.subarray(headerEnd, headerEnd + body.length).equals(body)).toBe(true);
  });

  it('skips at most three continuation bytes, so binary output is not eaten', () => {
    const out = formatScrollback(Buffer.from([0x80, 0x81, 0x82, 0x83, 0x84, 0x0a]), 'r1');
    expect(out.toString('latin1')).toContain('---- last 3 bytes of r1');
  });

  it('gives nothing when the scrollback is only a cut-off character', () => {
    expect(formatScrollback(Buffer.from([0x82, 0xac]), 'r1').length).toBe(0);
  });
});
