import type { Clock, Logger } from '@lifeline/shared/core';
import type { ServerChannel, Session } from 'ssh2';
import type { ConsoleAttachment, ConsoleBroker } from '../session/console-broker.js';
import type { Person } from '../session/person.js';
import { attachToDevice } from './attach-to-device.js';
import { giveUpKeyNames, watchGiveUpKeys } from './give-up-keys.js';
import { PersonTerminal } from './person-terminal.js';
import { ResizeLimiter } from './resize-limiter.js';
import { pumpSessionInput } from './session-input.js';
import { handleSessionRequests, refuseRequest } from './session-requests.js';

export interface PersonSessionOptions {
  /** Who this console session is (person.ts), passed on by reference to the attach. */
  person: Person;
  /** The accepted ssh2 session (its connection must have the break adapter installed). */
  session: Session;
  /** From a `USER:DEVICE` login; undefined for plain `USER` (the default device, or the menu). */
  deviceId: string | undefined;
  broker: ConsoleBroker;
  /** Escape key byte (e.g. 0x1d for ^]); undefined turns in-band escapes off. */
  escapeByte: number | undefined;
  /** Window-size changes applied per second; more are coalesced (resize-limiter.ts). */
  resizesPerSecond: number;
  clock: Clock;
  /** Carries the person's fields (personLogFields). */
  logger: Logger;
}

/** A person's session channel from the first SSH request to the console and back. */
export interface PersonSession {
  /** Ends the session from the relay's side (e.g. the connection dropped). Idempotent. */
  dispose(reason: string): void;
}

/**
 * Serves one session channel, wiring its parts together: the SSH requests (session-requests.ts),
 * the person's terminal on the channel (person-terminal.ts), the attach step on `shell`
 * (attach-to-device.ts, waiting for an offline device at a terminal) and the input path with its
 * escapes (session-input.ts); window changes go through the resize limiter, breaks to the console.
 */
export function servePersonSession(options: PersonSessionOptions): PersonSession {
  const { broker, logger } = options;
  let out: PersonTerminal | undefined;
  let attachment: ConsoleAttachment | undefined;
  let gone: string | undefined;
  const resizes = new ResizeLimiter((size) => attachment?.resize(size), options.resizesPerSecond, options.clock);
  const say = (line: string) => out?.line(line);

  // Set while the person waits for an offline device: their leaving ends the wait.
  let giveUpWait: (() => void) | undefined;
  const dispose = (reason: string) => {
    if (gone !== undefined) return;
    gone = reason;
    giveUpWait?.();
    resizes.stop();
    attachment?.detach(reason);
    logger.info({ event: 'session.end', reason }, 'session ended');
  };

  const requests = handleSessionRequests(options.session, logger, {
    resize: (size) => resizes.push(size),
    break: (accept, reject, { lengthMs }) => {
      if (!attachment) return refuseRequest(logger, 'break before shell', reject);
      // An observer's attachment has no BREAK: the request is refused with the rule's reason.
      if (attachment.kind === 'observer') {
        const verdict = attachment.rights().sendBreak;
        say(`[lifeline] BREAK not sent: ${verdict.allowed ? 'you joined to watch (:watch)' : verdict.why}`);
        return refuseRequest(logger, 'break on a :watch session', reject);
      }
      attachment.sendBreak(lengthMs).then(
        () => accept?.(),
        (err: unknown) => {
          logger.info({ event: 'session.break-failed', err }, 'break not sent');
          say(`[lifeline] BREAK not sent: ${(err as Error).message}`);
          reject?.();
        },
      );
    },
    shell: (channel) => void start(channel),
    close: () => dispose('channel closed'),
  });

  async function start(ch: ServerChannel): Promise<void> {
    const term = requests.term;
    const terminal = new PersonTerminal(ch, term !== undefined, () => dispose('aborted'));
    out = terminal;
    // At a terminal, an offline device is waited for; without one (ssh -T, scripts) it fails at once.
    const giveUp = new AbortController();
    giveUpWait = () => giveUp.abort();
    let keys: ReturnType<typeof watchGiveUpKeys> | undefined;
    const wait = {
      signal: giveUp.signal,
      giveUpKeys: giveUpKeyNames(options.escapeByte),
      waiting: () => (keys = watchGiveUpKeys(ch, options.escapeByte, () => giveUp.abort())),
    };
    const outcome = await attachToDevice(options.person, options.deviceId, {
      broker,
      terminal,
      term,
      wait: term ? wait : undefined,
      logger,
      // With a pty, a login that reaches no device gets the device menu (device-menu.ts).
      menu: { input: ch, clock: options.clock },
    }).finally(() => {
      keys?.stop();
      giveUpWait = undefined;
    });
    if (!outcome.attached) {
      terminal.line(outcome.line);
      terminal.end(1);
      return;
    }
    attachment = outcome.attachment;
    if (gone !== undefined) return attachment.detach(gone);
    logger.info({ event: 'session.attached', deviceId: attachment.deviceId, pty: term !== undefined }, 'console attached');
    pumpSessionInput({
      channel: ch,
      attachment,
      pty: term !== undefined,
      escapeByte: options.escapeByte,
      say,
      leave: (reason, exitCode) => {
        dispose(reason);
        terminal.end(exitCode);
      },
      gone: () => gone !== undefined,
      logger,
    });
  }

  return { dispose };
}
