import { describe, expect, it } from 'vitest';
import type { PartyTerminal } from './console-broker.js';
import { showLateJoinerHistory, type DeviceConsoleLog } from './late-joiner-history.js';

function recordingTerminal(): { terminal: PartyTerminal; written: Buffer[] } {
  const written: Buffer[] = [];
  const terminal: PartyTerminal = {
    write: (data) => (written.push(data), true),
    onceDrain: () => undefined,
    queuedBytes: () => 0,
    notice: () => undefined,
    end: () => undefined,
    abort: () => undefined,
  };
  return { terminal, written };
}

const logWith = (history: string): DeviceConsoleLog => ({
  append: () => undefined,
  note: () => undefined,
  joinScrollback: () => Buffer.from(history),
});

describe('showLateJoinerHistory', () => {
  it("writes the console log's recent output to a person at a terminal", () => {
    const { terminal, written } = recordingTerminal();
    showLateJoinerHistory(logWith('router# '), terminal, { cols: 80, rows: 24 });
    expect(Buffer.concat(written).toString()).toBe('router# ');
  });

  it('writes nothing to a session without a pty: it carries console bytes only', () => {
    const { terminal, written } = recordingTerminal();
    showLateJoinerHistory(logWith('router# '), terminal, undefined);
    expect(written).toEqual([]);
  });

  it('writes nothing when there is no history or no console log', () => {
    const { terminal, written } = recordingTerminal();
    showLateJoinerHistory(logWith(''), terminal, { cols: 80, rows: 24 });
    showLateJoinerHistory(undefined, terminal, { cols: 80, rows: 24 });
    expect(written).toEqual([]);
  });
});
