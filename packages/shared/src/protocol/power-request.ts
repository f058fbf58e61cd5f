/**
 * Power control through the tunnel (docs/protocol.md): the relay opens a stream to the agent
 * with this originator address, sends one request line, and reads one answer line. It is kept
 * off the console stream, so a power command never mixes with console bytes.
 */
export const POWER_ORIGIN = 'lifeline-power';

export const PowerActions = ['status', 'on', 'off', 'soft', 'cycle', 'reset'] as const;
export type PowerAction = (typeof PowerActions)[number];

/** Actions that change the machine's state: people are asked to confirm them. */
export function isDestructivePower(action: PowerAction): boolean {
  return action !== 'status' && action !== 'on';
}

export function isPowerAction(value: string): value is PowerAction {
  return (PowerActions as readonly string[]).includes(value);
}

export function encodePowerRequest(action: PowerAction): Buffer {
  return Buffer.from(`POWER ${action}\n`, 'ascii');
}

export function decodePowerRequest(line: string): PowerAction | undefined {
  const m = /^POWER ([a-z]+)$/.exec(line);
  return m && isPowerAction(m[1]!) ? m[1] : undefined;
}

export type PowerAnswer = { ok: true; text: string } | { ok: false; error: string };

/** One line: `OK <text>` or `ERR <message>`; newlines in the text are folded. */
export function encodePowerAnswer(answer: PowerAnswer): Buffer {
  const body = (answer.ok ? `OK ${answer.text}` : `ERR ${answer.error}`).replace(/[\r\n]+/g, ' ').slice(0, 500);
  return Buffer.from(`${body}\n`, 'utf8');
}

export function decodePowerAnswer(line: string): PowerAnswer | undefined {
  if (line.startsWith('OK ')) return { ok: true, text: line.slice(3) };
  if (line.startsWith('ERR ')) return { ok: false, error: line.slice(4) };
  return undefined;
}
