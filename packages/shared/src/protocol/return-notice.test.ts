import { describe, expect, it } from 'vitest';
import { MAX_RETURN_DELAY_MS, decodeReturnNotice, encodeReturnNotice } from './return-notice.js';

describe('return notice', () => {
  it('carries a delay in whole milliseconds', () => {
    expect(encodeReturnNotice(1234.4).toString()).toBe('RETURN 1234\n');
    expect(decodeReturnNotice('RETURN 1234')).toBe(1234);
  });

  it('caps what a relay may ask, and refuses anything that is not a notice', () => {
    expect(decodeReturnNotice('RETURN 999999999')).toBe(MAX_RETURN_DELAY_MS);
    for (const line of ['RETURN', 'RETURN -5', 'RETURN 1e9', 'RETURN 12 ', 'return 5', 'RETURN 1234567890', '\x1b[2JRETURN 5']) {
      expect(decodeReturnNotice(line)).toBeUndefined();
    }
  });
});
