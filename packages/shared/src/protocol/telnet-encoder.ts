import { IAC, TelnetCommand, verbCode, type NegotiationVerb } from './telnet-constants.js';

/** Doubles every 0xFF so the peer reads it as data; returns the input itself when there is none. */
export function escapeIac(data: Buffer): Buffer {
  let next = data.indexOf(IAC);
  if (next === -1) return data;
  let count = 0;
  for (let i = next; i !== -1; i = data.indexOf(IAC, i + 1)) count++;
  const out = Buffer.allocUnsafe(data.length + count);
  let from = 0;
  let to = 0;
  while (next !== -1) {
    // Copy up to and including the 0xFF, then write its twin.
    to += data.copy(out, to, from, next + 1);
    out[to++] = IAC;
    from = next + 1;
    next = data.indexOf(IAC, from);
  }
  data.copy(out, to, from);
  return out;
}

/** IAC <verb> <option>. */
export function encodeNegotiation(verb: NegotiationVerb, option: number): Buffer {
  return Buffer.from([IAC, verbCode[verb], option]);
}

/** IAC <command>, e.g. BRK or NOP. */
export function encodeCommand(command: number): Buffer {
  return Buffer.from([IAC, command]);
}

/** IAC SB <option> <payload, IAC doubled> IAC SE. */
export function encodeSubnegotiation(option: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([IAC, TelnetCommand.SB, option]), escapeIac(payload), Buffer.from([IAC, TelnetCommand.SE])]);
}
