import { describe, expect, it } from 'vitest';
import { PEER_TEXT_MAX, peerText } from './peer-text.js';

describe('peerText', () => {
  it('leaves ordinary text alone, accents included', () => {
    expect(peerText('OpenSSH_9.2p1 Debian-2')).toBe('OpenSSH_9.2p1 Debian-2');
    expect(peerText('josé')).toBe('josé');
  });

  it('escapes control characters, so no terminal sequence reaches a log reader', () => {
    expect(peerText('alice\x1b[2J\r\nroot logged in\x07')).toBe('alice\\x1b[2J\\x0d\\x0aroot logged in\\x07');
    expect(peerText('\x9b31m')).toBe('\\x9b31m');
  });

  it('escapes invisible formatting characters such as bidi overrides and zero-width spaces', () => {
    expect(peerText('admin\u202egnp.exe\u200b')).toBe('admin\\u{202e}gnp.exe\\u{200b}');
  });

  it(`cuts long text at ${PEER_TEXT_MAX} characters and says how much was left out`, () => {
    const out = peerText('x'.repeat(5_000));
    expect(out).toBe(`${'x'.repeat(PEER_TEXT_MAX)}...(+${5_000 - PEER_TEXT_MAX})`);
  });

  it('counts escapes against the cap, so escaping cannot blow the line up', () => {
    const out = peerText('\x00'.repeat(1_000), 20);
    expect(out).toBe(`${'\\x00'.repeat(5)}...(+995)`);
  });

  it('stringifies what is not a string', () => {
    expect(peerText(undefined)).toBe('undefined');
    expect(peerText(42)).toBe('42');
  });
});
