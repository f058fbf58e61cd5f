import { escapeKeyName } from './escape-handler.js';

const CTRL_C = 0x03;
const DOT = 0x2e;

/** `Ctrl-C or ^] then .`: the give-up keys, for the waiting line. */
export function giveUpKeyNames(escapeByte: number | undefined): string {
  return escapeByte === undefined ? 'Ctrl-C' : `Ctrl-C or ${escapeKeyName(escapeByte)} then .`;
}

/**
 * While a person waits for an offline device, the keys that give up: Ctrl-C, or the escape key
 * then `.` (as it disconnects a console session); the end of the input (the client sent EOF)
 * gives up too. Everything else typed meanwhile is dropped: it was typed at no console. Returns
 * `stop`, to call once the wait is over.
 */
export function watchGiveUpKeys(input: NodeJS.EventEmitter, escapeByte: number | undefined, giveUp: () => void): { stop(): void } {
  let afterEscape = false;
  const onData = (chunk: Buffer) => {
    for (const byte of chunk) {
      if (byte === CTRL_C || (afterEscape && byte === DOT)) return giveUp();
      afterEscape = escapeByte !== undefined && byte === escapeByte;
    }
  };
  input.on('data', onData);
  input.on('end', giveUp);
  return {
    stop: () => {
      input.off('data', onData);
      input.off('end', giveUp);
    },
  };
}
