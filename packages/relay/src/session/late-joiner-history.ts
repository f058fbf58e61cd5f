import type { PartyTerminal, TerminalSize } from './console-broker.js';

/** The device's continuous console log as the hub uses it (recording/console-log.ts). */
export interface DeviceConsoleLog {
  append(chunk: Buffer): void;
  note(text: string): void;
  /** Recent output, framed for a person who joins (empty when there is none). */
  joinScrollback(): Buffer;
}

/**
 * Context for a person who joins a console already running (Teleport's short history for late
 * joiners): the device's recent output from its console log, framed, before the live output.
 * On a terminal only: a session without a pty (`size` undefined) carries console bytes alone.
 * Nothing without a console log.
 */
export function showLateJoinerHistory(log: DeviceConsoleLog | undefined, terminal: PartyTerminal, size: TerminalSize | undefined): void {
  const scrollback = size ? log?.joinScrollback() : undefined;
  if (scrollback?.length) terminal.write(scrollback);
}
