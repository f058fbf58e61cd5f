import { isLifelineError, peerText, type Clock, type Logger } from '@lifeline/shared/core';
import type { ConsoleAttachment, ConsoleBroker, ConsoleRequest, OfflineWait, PartyTerminal } from '../session/console-broker.js';
import type { Person } from '../session/person.js';
import { attachOrChoose, type MenuInput } from './device-menu.js';

/** The result of one attach: the console, or a line fit to show the person saying why not. */
export type AttachOutcome = { attached: true; attachment: ConsoleAttachment } | { attached: false; line: string };

export interface AttachToDeviceOptions {
  broker: ConsoleBroker;
  /** The person's side of the console: output, notices, end (person-terminal.ts). */
  terminal: PartyTerminal;
  /** From pty-req; undefined for a session without a pty. */
  term: ConsoleRequest['term'];
  /** At a terminal, how to wait for an offline device; without it an offline device is refused at once. */
  wait: OfflineWait | undefined;
  logger: Logger;
  /** In a pty session: a login that reaches no device gets the device menu, read from `input` (device-menu.ts). */
  menu?: { input: MenuInput; clock: Clock };
}

/**
 * THE step "resolve the device for this login, then attach": the one place a person's session
 * gets from a person (who logged in) and a device id to a console. `deviceId` undefined means the person's
 * default device. The broker resolves and authorises the device (unknown and forbidden get the
 * same refusal, so nothing leaks) and waits for it if it is offline and `wait` is given.
 *
 * Never throws: a routing refusal (LifelineError `ROUTE_*`) comes back as its own line, anything
 * else as a generic line (the details go to the log only). The caller shows `line` and ends the
 * session, or, in a menu, lets the person choose again.
 *
 * Callers: servePersonSession (the device came with the login, `USER:DEVICE`) and the device
 * menu (a plain `USER` login choosing a device interactively) after the person has picked.
 */
export async function attachToDevice(person: Person, deviceId: string | undefined, options: AttachToDeviceOptions): Promise<AttachOutcome> {
  const request: ConsoleRequest = { person, deviceId, term: options.term };
  try {
    const { broker, terminal, wait, menu } = options;
    const attachment = menu
      ? await attachOrChoose({ broker, request, terminal, wait, input: menu.input, clock: menu.clock })
      : await broker.attach(request, terminal, wait);
    return { attached: true, attachment };
  } catch (err) {
    const route = isLifelineError(err) && err.code.startsWith('ROUTE_');
    options.logger[route ? 'info' : 'error'](
      { event: 'session.attach-failed', err, deviceId: deviceId === undefined ? undefined : peerText(deviceId) },
      'console not attached',
    );
    return { attached: false, line: route ? (err as Error).message : 'lifeline: internal error; the relay log has details.' };
  }
}
