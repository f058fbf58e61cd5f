import { describe, expect, it } from 'vitest';
import { connectionBudget, descriptorsNeeded, parseOpenFileLimit, readOpenFileLimit } from './open-file-limit.js';

const limits = (soft: string, hard: string) =>
  [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max processes             127431               127431               processes ',
    `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     `,
  ].join('\n');

describe('open-file limit', () => {
  it('reads soft and hard from a /proc/PID/limits text', () => {
    expect(parseOpenFileLimit(limits('1024', '20000'))).toEqual({ soft: 1024, hard: 20_000 });
    expect(parseOpenFileLimit(limits('unlimited', 'unlimited'))).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseOpenFileLimit('Max processes 1 1 processes')).toBeUndefined();
  });

  it("reads this process's limit, whose soft value Node.js has already raised to the hard one", async () => {
    const limit = await readOpenFileLimit();
    expect(limit).toBeDefined();
    expect(limit!.soft).toBe(limit!.hard);
  });

  it('keeps a reserve of descriptors for files out of the connection budget', () => {
    expect(connectionBudget({ soft: 20_000, hard: 20_000 })).toBe(20_000 - 256);
    expect(connectionBudget({ soft: 100, hard: 100 })).toBe(1);
    expect(descriptorsNeeded(10_000)).toBe(10_256);
  });
});
