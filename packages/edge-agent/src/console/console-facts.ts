import { formatLineSettings, type ConsoleConfig, type ConsoleStatus } from '@lifeline/shared/core';

/** What the relay is told about a console besides its state (LIFELINE-STATUS, docs/protocol.md). */
export type ConsoleFacts = Required<Pick<ConsoleStatus, 'kind' | 'power'>> & Pick<ConsoleStatus, 'line'>;

/**
 * The console's kind, line settings and power capability, from its config: `9600 8N1` for a
 * serial port, the RFC 2217 rate a telnet console asks for (if any), none for IPMI SOL (the BMC
 * sets its own rate) and the simulator.
 */
export function consoleFacts(config: ConsoleConfig): ConsoleFacts {
  switch (config.type) {
    case 'serial':
      return { kind: 'serial', line: formatLineSettings(config), power: false };
    case 'telnet':
      return { kind: 'telnet', ...(config.baudRate !== undefined ? { line: String(config.baudRate) } : {}), power: false };
    case 'ipmi-sol':
      return { kind: 'ipmi-sol', power: true };
    case 'sim':
      return { kind: 'sim', power: false };
  }
}
