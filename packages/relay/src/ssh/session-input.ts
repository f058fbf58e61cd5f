import type { Logger } from '@lifeline/shared/core';
import type { ServerChannel } from 'ssh2';
import type { ConsoleAttachment } from '../session/console-broker.js';
import { EscapeCommands } from './escape-commands.js';
import { EscapeHandler, type EscapeStep } from './escape-handler.js';

export interface SessionInputOptions {
  /** The person's channel, attached: what they type arrives here. */
  channel: ServerChannel;
  attachment: ConsoleAttachment;
  /** In-band escapes only in a pty session (a binary transfer without a pty passes untouched). */
  pty: boolean;
  /** Escape key byte (e.g. 0x1d for ^]); undefined turns in-band escapes off. */
  escapeByte: number | undefined;
  /** One line of lifeline's own to the person. */
  say: (line: string) => void;
  /** The person is leaving (escape disconnect, end of input): end the session with this status. */
  leave: (reason: string, exitCode: number) => void;
  /** Whether the session is already over. */
  gone: () => boolean;
  logger: Logger;
}

/**
 * The input path of an attached session: what the person types goes through the escape handler
 * (pty sessions with an escape key), escape commands run, and the rest goes to the attachment.
 * One chunk at a time with the channel paused meanwhile: input resolves when the console path
 * has taken it, so a slow device holds the person back through SSH flow control. End of input
 * ends the session once everything typed reached the console.
 */
export function pumpSessionInput(options: SessionInputOptions): void {
  const { channel: ch, attachment, logger } = options;
  const escapes = options.pty && options.escapeByte !== undefined ? new EscapeHandler(options.escapeByte) : undefined;
  const commands = new EscapeCommands({
    attachment,
    escapeByte: options.escapeByte,
    say: options.say,
    disconnect: () => options.leave('escape disconnect', 0),
    gone: options.gone,
    logger,
  });
  ch.on('data', (chunk: Buffer) => {
    ch.pause();
    const steps: EscapeStep[] = escapes ? escapes.feed(chunk) : [{ kind: 'data', data: chunk }];
    void commands.run(steps).finally(() => ch.resume());
  });
  // End of input (plink or ssh with stdin at EOF): 'end' comes only after the last chunk was
  // taken, so everything typed reached the console. Nothing more can come: end the session.
  ch.on('end', () => {
    const finish = () => options.leave('end of input', 0);
    // An escape key still waiting for its next key goes to the device as typed.
    const held = escapes?.endOfInput();
    // An observer has no input path: a held key goes nowhere.
    if (!held || attachment.kind === 'observer') return finish();
    void attachment
      .input(held)
      .catch((err: unknown) => logger.info({ event: 'session.input-failed', err }, 'input not delivered'))
      .finally(finish);
  });
}
