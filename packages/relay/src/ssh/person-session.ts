import { isLifelineError, peerText, type Clock, type Logger } from '@lifeline/shared';
import type { ServerChannel, Session } from 'ssh2';
import type { ConsoleAttachment, ConsoleBroker, ConsoleRequest, PartyTerminal } from '../session/console-broker.js';
import { onBreakRequest } from './break-request-adapter.js';
import { attachOrChoose } from './device-menu.js';
import { EscapeCommands } from './escape-commands.js';
import { EscapeHandler, type EscapeStep } from './escape-handler.js';
import { giveUpKeyNames, watchGiveUpKeys } from './give-up-keys.js';
import { ResizeLimiter } from './resize-limiter.js';

export interface PersonSessionOptions {
  /** The accepted ssh2 session (its connection must have the break adapter installed). */
  session: Session;
  user: string;
  deviceId: string | undefined;
  /** `USER:DEVICE:watch`: read-only on purpose. */
  watch: boolean;
  sessionId: string;
  peer: string;
  broker: ConsoleBroker;
  /** Escape key byte (e.g. 0x1d for ^]); undefined turns in-band escapes off. */
  escapeByte: number | undefined;
  /** Window-size changes applied per second; more are coalesced (resize-limiter.ts). */
  resizesPerSecond: number;
  clock: Clock;
  logger: Logger;
}

/** A person's session channel from the first SSH request to the console and back. */
export interface PersonSession {
  /** Ends the session from the relay's side (e.g. the connection dropped). Idempotent. */
  dispose(reason: string): void;
}

/**
 * Serves one session channel: keeps the pty's terminal type and size, starts the console on
 * `shell`, carries keystrokes (through the escape handler when there is a pty) and output (with
 * backpressure), forwards window changes and breaks, and refuses everything that is not a
 * console (exec, sftp and other subsystems, X11, agent forwarding, signals).
 */
export function servePersonSession(options: PersonSessionOptions): PersonSession {
  const { session, broker, logger } = options;
  let term: ConsoleRequest['term'];
  let channel: ServerChannel | undefined;
  let attachment: ConsoleAttachment | undefined;
  let gone: string | undefined;
  let ended = false;
  const resizes = new ResizeLimiter((size) => attachment?.resize(size), options.resizesPerSecond, options.clock);

  const refuse = (what: string, reject: (() => void) | undefined, level: 'debug' | 'info' = 'info') => {
    logger[level]({ event: 'session.request.refused', request: what }, `refused ${what} request`);
    reject?.();
  };

  // lifeline's own lines: on the terminal for pty sessions; on stderr otherwise, so the
  // console bytes on stdout of a scripted or binary session stay exactly the device's.
  // Whether the terminal's cursor is at the start of a line, so our lines never start mid-prompt.
  let atLineStart = true;
  const writeLine = (line: string) => {
    if (!channel || ended || !channel.writable) return;
    if (term) channel.write(`${atLineStart ? '' : '\r\n'}${line}\r\n`);
    else channel.stderr.write(`${line}\n`);
    atLineStart = true;
  };

  // Sends exit-status only after what was written so far has gone out, then EOF and close.
  const end = (exitCode: number) => {
    const ch = channel;
    if (!ch || ended) return;
    ended = true;
    const finish = () => {
      ch.exit(exitCode);
      ch.end();
    };
    if (ch.writableLength === 0) finish();
    else ch.write(Buffer.alloc(0), finish);
  };

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

  session.on('pty', (accept, reject, info) => {
    if (channel) return refuse('pty-req after shell', reject);
    // ssh2 passes TERM as `term` (missing from its typings); the modes it parses are always {}.
    const name = (info as typeof info & { term?: string }).term || 'vt100';
    term = { name, size: { cols: info.cols, rows: info.rows } };
    accept?.();
  });
  session.on('window-change', (accept, _reject, info) => {
    if (term) term = { name: term.name, size: { cols: info.cols, rows: info.rows } };
    resizes.push({ cols: info.cols, rows: info.rows });
    accept?.();
  });
  // Harmless, and OpenSSH sends LANG and friends unasked.
  session.on('env', (accept) => accept?.());
  session.on('x11', (_a, reject) => refuse('x11-req', reject, 'debug'));
  session.on('auth-agent', (_a, reject) => refuse('auth-agent-req', reject, 'debug'));
  session.on('signal', (_a, reject) => refuse('signal', reject, 'debug'));
  // Not the command itself: people put secrets in command lines.
  session.on('exec', (_a, reject) => refuse('exec', reject));
  session.on('sftp', (_a, reject) => refuse('subsystem sftp', reject));
  session.on('subsystem', (_a, reject, info) => refuse(`subsystem ${peerText(info.name)}`, reject));

  onBreakRequest(session, (accept, reject, { lengthMs }) => {
    if (!attachment) return refuse('break before shell', reject);
    // An observer's attachment has no BREAK: the request is refused with the rule's reason.
    if (attachment.mode === 'watch') {
      const verdict = attachment.rights().sendBreak;
      writeLine(`[lifeline] BREAK not sent: ${verdict.allowed ? 'you joined to watch (:watch)' : verdict.why}`);
      return refuse('break on a :watch session', reject);
    }
    attachment.sendBreak(lengthMs).then(
      () => accept?.(),
      (err: unknown) => {
        logger.info({ event: 'session.break-failed', err }, 'break not sent');
        writeLine(`[lifeline] BREAK not sent: ${(err as Error).message}`);
        reject?.();
      },
    );
  });

  session.on('shell', (accept, reject) => {
    if (channel) return refuse('second shell', reject);
    channel = accept();
    channel.on('error', (err: Error) => logger.debug({ event: 'session.channel-error', err }, 'session channel error'));
    void start(channel);
  });

  session.on('close', () => dispose('channel closed'));

  async function start(ch: ServerChannel): Promise<void> {
    const terminal: PartyTerminal = {
      // A person who left needs no more output: swallow it instead of writing after end.
      write: (data) => {
        if (ended || !ch.writable) return true;
        if (data.length > 0) atLineStart = data[data.length - 1] === 0x0a;
        return ch.write(data);
      },
      onceDrain: (listener) => void ch.once('drain', listener),
      queuedBytes: () => ch.writableLength,
      notice: (line) => writeLine(`[lifeline] ${line}`),
      end,
      // A stalled reader: say why (if it still gets through) and close the channel at once,
      // dropping what is queued for it, instead of waiting behind that queue as end() does.
      abort: (line) => {
        if (ended) return;
        writeLine(`[lifeline] ${line}`);
        ended = true;
        dispose('aborted');
        ch.exit(1);
        ch.close();
      },
    };
    const request: ConsoleRequest = {
      user: options.user,
      deviceId: options.deviceId,
      watch: options.watch,
      sessionId: options.sessionId,
      peer: options.peer,
      term,
    };
    // At a terminal, an offline device is waited for; without one (ssh -T, scripts) it fails at once.
    const giveUp = new AbortController();
    giveUpWait = () => giveUp.abort();
    let keys: ReturnType<typeof watchGiveUpKeys> | undefined;
    const wait = {
      signal: giveUp.signal,
      giveUpKeys: giveUpKeyNames(options.escapeByte),
      waiting: () => (keys = watchGiveUpKeys(ch, options.escapeByte, () => giveUp.abort())),
    };
    try {
      // With a pty, a login that reaches no device gets the device menu (device-menu.ts).
      attachment = await attachOrChoose({ broker, request, terminal, wait: term ? wait : undefined, input: ch, clock: options.clock });
    } catch (err) {
      const route = isLifelineError(err) && err.code.startsWith('ROUTE_');
      logger[route ? 'info' : 'error'](
        { event: 'session.attach-failed', err, deviceId: options.deviceId === undefined ? undefined : peerText(options.deviceId) },
        'console not attached',
      );
      writeLine(route ? (err as Error).message : 'lifeline: internal error; the relay log has details.');
      end(1);
      return;
    } finally {
      keys?.stop();
      giveUpWait = undefined;
    }
    if (gone !== undefined) return attachment.detach(gone);
    logger.info({ event: 'session.attached', deviceId: attachment.deviceId, pty: term !== undefined }, 'console attached');
    const escapes = term && options.escapeByte !== undefined ? new EscapeHandler(options.escapeByte) : undefined;
    const commands = new EscapeCommands({
      attachment,
      escapeByte: options.escapeByte,
      say: writeLine,
      disconnect: () => {
        dispose('escape disconnect');
        end(0);
      },
      gone: () => gone !== undefined,
      logger,
    });
    // One chunk at a time, channel paused meanwhile: input resolves when the console path has
    // taken it, so a slow device holds the person back through SSH flow control.
    ch.on('data', (chunk: Buffer) => {
      ch.pause();
      const steps: EscapeStep[] = escapes ? escapes.feed(chunk) : [{ kind: 'data', data: chunk }];
      void commands.run(steps).finally(() => ch.resume());
    });
    // End of input (plink or ssh with stdin at EOF): 'end' comes only after the last chunk was
    // taken, so everything typed reached the console. Nothing more can come: end the session.
    ch.on('end', () => {
      const finish = () => {
        dispose('end of input');
        end(0);
      };
      // An escape key still waiting for its next key goes to the device as typed.
      const held = escapes?.endOfInput();
      if (!held || !attachment) return finish();
      if (attachment.mode === 'watch') return finish();
      void attachment
        .input(held)
        .catch((err: unknown) => logger.info({ event: 'session.input-failed', err }, 'input not delivered'))
        .finally(finish);
    });
  }

  return { dispose };
}
