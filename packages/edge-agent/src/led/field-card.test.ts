import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fieldCard } from './field-card.js';
import { INDICATOR_STATES, STATUS_STATES } from './status-states.js';

const docsFile = new URL('../../../../docs/status-led.md', import.meta.url);

describe('the field card in docs/status-led.md', () => {
  it('is exactly the card made from the table of states', async () => {
    const docs = await readFile(docsFile, 'utf8');
    expect(docs).toContain(`\`\`\`\n${fieldCard()}\n\`\`\``);
  });

  it('has one row per state, with the pattern as the table names it, and the dark LED first', () => {
    // Rows are separated by ├───┼ rules; the first block is the title and the header.
    const rows = fieldCard()
      .split(/\n ├[─┼]+┤\n/)
      .slice(1)
      .map((row) =>
        row
          .split('\n')
          .filter((line) => line.startsWith(' │ '))
          .map((line) => line.split('│')[1]!.trim())
          .filter(Boolean),
      );
    expect(rows).toEqual([['OFF'], ...INDICATOR_STATES.map((state) => [...STATUS_STATES[state].card])]);
  });

  it('names every state the hook can be given, and no other', async () => {
    const docs = await readFile(docsFile, 'utf8');
    const row = docs.split('\n').find((line) => line.startsWith('| `LIFELINE_STATE` |'))!;
    expect([...row.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]).filter((name) => name !== 'LIFELINE_STATE')).toEqual(INDICATOR_STATES);
  });

  it('lists each refusal with its flash count in the enrolment table', async () => {
    const docs = await readFile(docsFile, 'utf8');
    for (const state of INDICATOR_STATES.filter((s) => s.startsWith('refused-'))) {
      const pattern = STATUS_STATES[state].pattern;
      const flashes = pattern.kind === 'cycle' ? pattern.phasesMs.length / 2 : 0;
      expect(docs, state).toMatch(new RegExp(`^\\| ${flashes} flashes \\| \`${state}\` \\|`, 'm'));
      expect(STATUS_STATES[state].card[0]).toBe(`${flashes} SHORT FLASHES,`);
    }
  });

  it('gives every state a pattern no other state has', () => {
    const patterns = INDICATOR_STATES.map((state) => JSON.stringify(STATUS_STATES[state].pattern));
    expect(new Set(patterns).size).toBe(INDICATOR_STATES.length);
  });
});
