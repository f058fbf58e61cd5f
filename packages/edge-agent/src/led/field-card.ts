import { INDICATOR_STATES, STATUS_STATES, type StatusState } from './status-states.js';

/** The row for a dark LED: not a state the agent shows, but the first thing a person may see. */
const NOT_RUNNING: Omit<StatusState, 'pattern'> = {
  card: ['OFF'],
  meaning: 'The agent is not running.',
  todo: 'Check the Pi has power. Unplug it for 10 s and plug it back in. Still off after 2 minutes: call.',
};

/** Text widths of the three columns: LED, meaning, what to do. */
const WIDTHS = [19, 33, 37] as const;

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const rule = (left: string, middle: string, right: string) => ` ${left}${WIDTHS.map((w) => '─'.repeat(w + 2)).join(middle)}${right}`;

/**
 * The field card of docs/status-led.md, made from STATUS_STATES: one row per state (the dark
 * LED first), the LED as a person sees it, what it means, what to do. The docs hold this text
 * exactly (field-card.test.ts), so the card cannot miss a state or describe a pattern wrongly.
 */
export function fieldCard(): string {
  const inner = WIDTHS.reduce((a, w) => a + w + 3, -1);
  const rows = [NOT_RUNNING, ...INDICATOR_STATES.map((s) => STATUS_STATES[s])].map((row) => {
    const columns = [[...row.card], wrap(row.meaning, WIDTHS[1]), wrap(row.todo, WIDTHS[2])];
    const height = Math.max(...columns.map((c) => c.length));
    return Array.from({ length: height }, (_, i) => ` │ ${columns.map((c, j) => (c[i] ?? '').padEnd(WIDTHS[j]!)).join(' │ ')} │`);
  });
  const header = ['LED', 'Meaning', 'What to do'].map((h, j) => h.padEnd(WIDTHS[j]!)).join(' │ ');
  return [
    ` ┌${'─'.repeat(inner)}┐`,
    ` │ ${'lifeline console link: what the LED says'.padEnd(inner - 2)} │`,
    rule('├', '┬', '┤'),
    ` │ ${header} │`,
    ...rows.flatMap((lines) => [rule('├', '┼', '┤'), ...lines]),
    rule('└', '┴', '┘'),
    '  Device: ______________   Site: ______________   Call: ______________',
  ].join('\n');
}
